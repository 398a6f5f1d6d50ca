// Starts GraphiQL with the settings the server put in #playground-config.
// Served from our own origin so the page needs no inline script and its CSP
// can stay at script-src 'self'.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("playground-config").textContent);

  // Headers carry the caller's token. shouldPersistHeaders keeps them out of
  // the saved editor state, but GraphiQL's history still saves each run's
  // headers; this storage drops every "headers" value before it reaches
  // localStorage.
  function withoutHeaders(value) {
    if (Array.isArray(value)) return value.map(withoutHeaders);
    if (value && typeof value === "object") {
      var out = {};
      Object.keys(value).forEach(function (k) {
        if (k !== "headers") out[k] = withoutHeaders(value[k]);
      });
      return out;
    }
    return value;
  }
  var storage = {
    getItem: function (key) {
      return localStorage.getItem(key);
    },
    setItem: function (key, value) {
      if (/:headers$/.test(key)) return;
      try {
        value = JSON.stringify(withoutHeaders(JSON.parse(value)));
      } catch (e) {
        // Not JSON (a plain query string): stored as is.
      }
      localStorage.setItem(key, value);
    },
    removeItem: function (key) {
      localStorage.removeItem(key);
    },
    clear: function () {
      Object.keys(localStorage)
        .filter(function (k) { return k.indexOf("graphiql:") === 0; })
        .forEach(function (k) { localStorage.removeItem(k); });
    },
    get length() {
      return localStorage.length;
    },
  };

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: cfg.endpoint }),
      defaultQuery: cfg.defaultQuery,
      defaultHeaders: cfg.defaultHeaders,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      storage: storage,
      defaultEditorToolsVisibility: "headers",
    })
  );
})();
