/* MGM conversion script for a VTEX store. Include it on every store page (it is tiny):
 *   <script src="https://<mgm host>/static/js/mgm-conversion.js" defer
 *           data-endpoint="https://<mgm host>/t/conversion" data-brand="<vtex account>"
 *           data-days="30"></script>
 * On landing it keeps the click id our redirect put in `utmi_cp` in a first-party cookie of
 * the store; on /checkout/orderPlaced/?og=<order group> it posts the order group and that click
 * id to MGM once. No inline code and no eval, so it works under a strict CSP (allow the MGM
 * host in script-src and connect-src). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch) { return; }
  var endpoint = script.getAttribute("data-endpoint");
  var brand = script.getAttribute("data-brand");
  var days = parseInt(script.getAttribute("data-days") || "30", 10);
  if (!endpoint || !brand) { return; }
  var params = new URLSearchParams(window.location.search);
  var clickPattern = /^[0-9A-HJKMNP-TV-Z]{26}$/;
  var landed = (params.get("utmi_cp") || "").toUpperCase();
  if (clickPattern.test(landed)) {
    document.cookie = "mgm_click=" + landed + "; Max-Age=" + (days * 86400) + "; Path=/; SameSite=Lax" +
      (window.location.protocol === "https:" ? "; Secure" : "");
  }
  if (!/\/checkout\/orderPlaced/i.test(window.location.pathname)) { return; }
  var order = params.get("og") || params.get("orderGroup") || "";
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(order)) { return; }
  var sentKey = "mgm_sent_" + order;
  try {
    if (window.sessionStorage.getItem(sentKey)) { return; }
    window.sessionStorage.setItem(sentKey, "1");
  } catch (e) { /* private mode: post anyway, the server is idempotent */ }
  var match = document.cookie.match(/(?:^|; )mgm_click=([0-9A-HJKMNP-TV-Z]{26})/);
  window.fetch(endpoint, {
    method: "POST",
    mode: "cors",
    credentials: "include",
    keepalive: true,
    headers: { "Content-Type": "text/plain" },
    body: JSON.stringify({ brand: brand, order: order, click: match ? match[1] : "" })
  }).catch(function () { /* the order's UTMs still attribute it */ });
})();
