// The book ships its own copies of MathJax and the ipywidgets manager (_static/vendor/).
// If a build was made without them (no npm at build time), load them from the public CDN.
window.addEventListener("load", function () {
  function load(src) {
    var s = document.createElement("script");
    s.src = src;
    s.async = true;
    document.head.appendChild(s);
    return s;
  }
  var hasMath = document.querySelector(".math, .MathJax, mjx-container");
  if (hasMath && !(window.MathJax && window.MathJax.startup)) {
    load("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js");
  }
  var hasWidgets = document.querySelector(
    'script[type="application/vnd.jupyter.widget-state+json"]');
  if (hasWidgets && typeof window.require === "undefined") {
    load("https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.4/require.min.js").onload =
      function () {
        load("https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.6/dist/embed-amd.js");
      };
  }
});
