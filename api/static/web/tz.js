// The browser's time zone, for the server to show times in when the person has not
// chosen one (a cookie; the page works the same without it, in UTC).
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) { return; }
  var have = document.cookie.match(/(?:^|; )crafting_tz=([^;]*)/);
  if (have && have[1] === zone) { return; }
  document.cookie = "crafting_tz=" + zone +  // checked above: no character to escape
    "; path=/; max-age=31536000; samesite=lax" + (location.protocol === "https:" ? "; secure" : "");
})();
