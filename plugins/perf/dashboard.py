"""Publishing the asv dashboard so that it renders with no network.

asv 0.6 writes an ``index.html`` that loads jQuery, Flot, Bootstrap, stupidtable and md5 from CDNs. After
``asv publish`` we copy the vendored copies (``www/``, see www/VENDOR.md) into ``<html_dir>/vendor`` and rewrite the
tags. Browsers refuse ``XMLHttpRequest`` on ``file://`` pages, so we also write ``vendor/asv-offline-data.js``: every
JSON file of the dashboard, served to asv's ``$.ajax`` calls by a small shim when the page is opened from disk. Over
http (``auditkit bench serve``) the shim steps aside and the JSON files are fetched as usual.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

WWW = Path(__file__).with_name("www")

#: CDN URL (without query) -> vendored file name
CDN_MAP = {
    "https://code.jquery.com/jquery-3.3.1.min.js": "jquery-3.3.1.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js": "jquery.flot-0.8.3.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js": "jquery.flot.time-0.8.3.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js":
        "jquery.flot.selection-0.8.3.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js":
        "jquery.flot.categories-0.8.3.js",
    "https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js": "jquery.flot.orderBars-1.0.0.js",
    "https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js": "stupidtable.js",
    "https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js": "blueimp-md5-2.19.0.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js": "bootstrap-3.1.1.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css": "bootstrap-3.1.1.min.css",
}
FONTS = ["glyphicons-halflings-regular.woff"]

# <script ... src="..." ...></script> and <link ... href="..." ...>: the resource-loading tags
_SCRIPT = re.compile(r"<script\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"'][^>]*>\s*</script>", re.I | re.S)
_LINK = re.compile(r"<link\b[^>]*?\bhref\s*=\s*[\"']([^\"']+)[\"'][^>]*>", re.I | re.S)
_IMG = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.I | re.S)
_REMOTE = re.compile(r"^(https?:)?//", re.I)

SHIM = r"""/* auditkit: serve the dashboard's JSON from asv-offline-data.js when the page is opened from disk
   (browsers refuse XMLHttpRequest on file:// URLs). Over http this does nothing. */
(function ($) {
  if (!$ || window.location.protocol !== "file:" || !window.ASV_OFFLINE_DATA) { return; }
  var data = window.ASV_OFFLINE_DATA, ajax = $.ajax;
  $.ajax = function (url, options) {
    var opts = (typeof url === "object") ? url : $.extend({}, options, {url: url});
    var key = String(opts.url || "").split("?")[0].replace(/^\.\//, "");
    try { key = decodeURIComponent(key); } catch (e) { /* keep it */ }
    if (Object.prototype.hasOwnProperty.call(data, key)) {
      var dfd = $.Deferred();
      setTimeout(function () {
        var value = JSON.parse(JSON.stringify(data[key]));
        if (opts.success) { opts.success(value, "success", dfd); }
        dfd.resolve(value, "success", dfd);
      }, 0);
      return dfd.promise();
    }
    return ajax.apply(this, arguments);
  };
})(window.jQuery);
"""


class OfflineError(RuntimeError):
    pass


def _local_name(url: str) -> str | None:
    return CDN_MAP.get(url.split("?")[0].split("#")[0])


def rewrite_html(text: str) -> tuple[str, list[str]]:
    """Point CDN ``<script>``/``<link>`` tags at ``vendor/``; return the new text and the URLs left unmapped."""
    unknown: list[str] = []

    def script(m):
        url = m.group(1)
        if not _REMOTE.match(url):
            return m.group(0)
        name = _local_name(url)
        if name is None:
            unknown.append(url)
            return m.group(0)
        tag = f'<script type="text/javascript" src="vendor/{name}"></script>'
        if name.startswith("jquery-"):
            tag += ('\n    <script type="text/javascript" src="vendor/asv-offline-data.js"></script>'
                    '\n    <script type="text/javascript" src="vendor/asv-offline-shim.js"></script>')
        return tag

    def link(m):
        url = m.group(1)
        if not _REMOTE.match(url) or not re.search(r"rel\s*=\s*[\"']?stylesheet", m.group(0), re.I):
            return m.group(0)
        name = _local_name(url)
        if name is None:
            unknown.append(url)
            return m.group(0)
        return f'<link rel="stylesheet" type="text/css" href="vendor/{name}">'

    text = _SCRIPT.sub(script, text)
    text = _LINK.sub(link, text)
    return text, unknown


def offline_data(html_dir: Path) -> dict:
    """Every JSON file under ``html_dir`` keyed by its relative path (what asv's ``$.ajax`` asks for)."""
    data = {}
    for path in sorted(html_dir.rglob("*.json")):
        rel = path.relative_to(html_dir).as_posix()
        try:
            data[rel] = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
    return data


def make_offline(html_dir: str | Path, *, embed_data: bool = True) -> list[str]:
    """Vendor the assets into ``html_dir`` and rewrite its HTML files. Returns the files rewritten.

    Raises OfflineError naming any remote script/stylesheet that has no vendored copy.
    """
    html_dir = Path(html_dir)
    if not (html_dir / "index.html").is_file():
        raise OfflineError(f"{html_dir}: no index.html; run `asv publish` (or `auditkit bench publish`) first")
    vendor = html_dir / "vendor"
    vendor.mkdir(exist_ok=True)
    for name in set(CDN_MAP.values()):
        shutil.copyfile(WWW / name, vendor / name)
    fonts = html_dir / "fonts"  # bootstrap.min.css refers to ../fonts/
    fonts.mkdir(exist_ok=True)
    for name in FONTS:
        shutil.copyfile(WWW / name, fonts / name)
    shutil.copyfile(WWW / "LICENSES.txt", vendor / "LICENSES.txt")
    (vendor / "asv-offline-shim.js").write_text(SHIM, encoding="utf-8")
    payload = offline_data(html_dir) if embed_data else {}
    (vendor / "asv-offline-data.js").write_text(
        "window.ASV_OFFLINE_DATA = " + json.dumps(payload, separators=(",", ":")) + ";\n", encoding="utf-8")
    rewritten, unknown = [], []
    for page in sorted(html_dir.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        new, missing = rewrite_html(text)
        unknown += missing
        if new != text:
            page.write_text(new, encoding="utf-8")
            rewritten.append(page.name)
    if unknown:
        raise OfflineError("these remote files have no vendored copy (add them to plugins/perf/www and CDN_MAP): "
                           + ", ".join(sorted(set(unknown))))
    problems = check_offline(html_dir)
    if problems:
        raise OfflineError("; ".join(problems))
    return rewritten


def check_offline(html_dir: str | Path) -> list[str]:
    """Problems that would stop the dashboard rendering offline: remote scripts, stylesheets or images, and local
    ones that do not exist. Plain links (``<a href>``) may point anywhere."""
    html_dir = Path(html_dir)
    problems = []
    pages = sorted(html_dir.glob("*.html"))
    if not pages:
        return [f"{html_dir}: no HTML files"]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        refs = _SCRIPT.findall(text) + _IMG.findall(text)
        refs += [m.group(1) for m in _LINK.finditer(text)
                 if re.search(r"rel\s*=\s*[\"']?(stylesheet|shortcut icon|icon)", m.group(0), re.I)]
        for ref in refs:
            if _REMOTE.match(ref):
                problems.append(f"{page.name} loads {ref} from the network")
            elif not (html_dir / ref.split("?")[0].split("#")[0]).is_file():
                problems.append(f"{page.name} refers to {ref}, which is not in {html_dir}")
    return problems
