// Tell RequireJS where the book's own copy of the ipywidgets manager lives, so that the
// fonts and chunks it loads relative to itself resolve inside the book (vendor/) rather
// than next to each page. Loaded after require.js and before embed-amd.js (_config.yml);
// tools/vendor-js.sh copies it to vendor/ beside them.
(function () {
  if (typeof window.require === "undefined" || !document.currentScript) {
    return;
  }
  var vendor = new URL("./", document.currentScript.src).href;
  window.require.config({
    paths: { "@jupyter-widgets/html-manager/dist": vendor + "html-manager" },
  });
})();
