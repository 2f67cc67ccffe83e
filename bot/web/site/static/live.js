/* fanloop: live counts on a page that shows them (a drop's reservations and what is left).
 * Progressive enhancement: the page is complete without it. Every few seconds it reads the
 * page's JSON twin (the element's data-live address) and writes each value into the elements
 * that name it (data-live-field="drop.remaining"). Served by the site itself (script-src 'self');
 * no inline script, no other origin. */
(function () {
  "use strict";
  var EVERY = 5000;
  var root = document.querySelector("[data-live]");
  if (!root || !window.fetch || !window.JSON) {
    return;
  }
  var src = root.getAttribute("data-live");

  function pick(data, path) {
    return path.split(".").reduce(function (value, key) {
      return value === null || value === undefined ? value : value[key];
    }, data);
  }

  function update(data) {
    var fields = root.querySelectorAll("[data-live-field]");
    for (var i = 0; i < fields.length; i++) {
      var value = pick(data, fields[i].getAttribute("data-live-field"));
      if (typeof value === "number" || typeof value === "string") {
        var text = String(value);
        if (fields[i].textContent !== text) {
          fields[i].textContent = text;
        }
      }
    }
  }

  function poll() {
    if (document.hidden) {
      window.setTimeout(poll, EVERY);
      return;
    }
    window
      .fetch(src, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data) {
          update(data);
        }
      })
      .catch(function () {})
      .then(function () {
        window.setTimeout(poll, EVERY);
      });
  }

  window.setTimeout(poll, EVERY);
})();
