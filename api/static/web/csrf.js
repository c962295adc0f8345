// Sends the page's CSRF token (its meta tag) with every htmx request, as the
// X-CSRF-Token header; plain forms carry it as a hidden field. A file, not inline
// script: the Content-Security-Policy allows no inline script.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});
