// Glue between the book's pages and its own copy of the ipywidgets manager (vendor/).
// Loaded after require.js and before embed-amd.js (_config.yml); tools/vendor-js.sh copies
// it to vendor/ beside them.
(function () {
  // 1. Webpack inside the manager loads fonts relative to each module's RequireJS address.
  //    Point those addresses into vendor/html-manager/, where the fonts are, instead of
  //    next to each page.
  if (typeof window.require !== "undefined" && document.currentScript) {
    var manager = new URL("./html-manager", document.currentScript.src).href;
    window.require.config({
      paths: {
        "@jupyter-widgets/html-manager": manager + "/embed-amd",
        "@jupyter-widgets/html-manager/dist": manager,
        "@jupyter-widgets/base": manager + "/base",
        "@jupyter-widgets/controls": manager + "/controls",
        "@jupyter-widgets/output": manager + "/output",
      },
    });
  }
  // 2. The widgets typeset their labels through MathJax 2's MathJax.Hub.Queue; the book
  //    uses MathJax 3. Give them the one call they need.
  function mathjaxShim() {
    var mj = window.MathJax;
    if (mj && !mj.Hub) {
      mj.Hub = {
        Queue: function (job) {
          var m = window.MathJax;
          if (m && m.typesetPromise && job && job[2]) {
            m.typesetPromise([job[2]]).catch(function () {});
          }
        },
      };
    }
  }
  mathjaxShim();
  document.addEventListener("DOMContentLoaded", mathjaxShim);
})();
