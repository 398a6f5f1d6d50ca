// Starts GraphiQL with the settings the server put in #playground-config.
// Served from our own origin so the page needs no inline script and its CSP
// can stay at script-src 'self'.
//
// It runs before GraphiQL's files (they are deferred) and watches them: when
// one cannot load (no internet, a blocked CDN, a wrong hash) or none has
// come after cfg.loadTimeoutMs, the page says why and what makes it work
// without internet, instead of "Loading GraphiQL…" forever.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("playground-config").textContent);
  var started = false;
  var problemShown = false;
  var from = cfg.assetsOrigin || "this server";

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  // showProblem replaces the loading message (never a running GraphiQL).
  function showProblem(reason) {
    if (started) return;
    problemShown = true;
    var box = document.getElementById("graphiql");
    if (!box) {
      // The body is not parsed yet: try again once it is.
      setTimeout(function () { showProblem(reason); }, 50);
      return;
    }
    var msg = el("div", "", "load-problem");
    msg.id = "load-problem";
    msg.setAttribute("role", "alert");
    msg.appendChild(el("h1", "GraphiQL did not load"));
    msg.appendChild(el("p", reason));
    if (cfg.assetsOrigin) {
      var p = el("p", "This server has no local copy of GraphiQL, so the playground needs internet access. " +
        "To serve it from this server, run ");
      p.appendChild(el("code", cfg.installCommand));
      p.appendChild(document.createTextNode(" in the repository (or "));
      p.appendChild(el("code", "bash scripts/dev-deps.sh"));
      p.appendChild(document.createTextNode(", which also installs the test packages) and restart the server."));
      msg.appendChild(p);
    } else {
      msg.appendChild(el("p", "This server could not serve them; its log says why."));
    }
    msg.appendChild(el("p", "The GraphQL endpoint itself works without the playground: POST queries to " + cfg.endpoint + "."));
    box.replaceChildren(msg);
  }

  // Load errors of <script> and <link> do not bubble; a capturing listener
  // on window sees them.
  window.addEventListener("error", function (ev) {
    var t = ev.target;
    if (t && t !== window && (t.src || t.href)) {
      showProblem("Could not load " + (t.src || t.href) + ".");
    }
  }, true);
  var timer = setTimeout(function () {
    if (!problemShown) showProblem("GraphiQL's files have not arrived from " + from + " after " +
      Math.round(cfg.loadTimeoutMs / 1000) + " seconds.");
  }, cfg.loadTimeoutMs);

  document.addEventListener("DOMContentLoaded", function () {
    clearTimeout(timer);
    if (typeof React === "undefined" || typeof ReactDOM === "undefined" || typeof GraphiQL === "undefined") {
      // A load error has usually said which file already.
      if (!problemShown) showProblem("GraphiQL's files could not be loaded from " + from + ".");
      return;
    }
    started = true;
    start();
  });

  function start() {

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
        // Subscriptions go over graphql-ws on the same endpoint; GraphiQL
        // sends the Headers editor (Authorization) as connection_init's
        // payload, which the server reads the token from.
        fetcher: GraphiQL.createFetcher({
          url: cfg.endpoint,
          subscriptionUrl: new URL(cfg.endpoint, location.href).href.replace(/^http/, "ws"),
        }),
        defaultQuery: cfg.defaultQuery,
        defaultHeaders: cfg.defaultHeaders,
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: false,
        storage: storage,
        defaultEditorToolsVisibility: "headers",
      })
    );
  }
})();
