"""Small Sphinx fixes for the book, loaded through `local_extensions` in _config.yml.

- sphinx-thebe (pulled in by Jupyter Book 1.x) registers its inline configuration script
  twice, which makes the browser report "Identifier 'THEBE_JS_URL' has already been
  declared" on every page. Drop exact duplicates of inline scripts before rendering.
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        body = getattr(js, "attributes", {}).get("body")
        key = ("body", body) if body else ("src", str(js))
        if key in seen:
            continue
        seen.add(key)
        kept.append(js)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
