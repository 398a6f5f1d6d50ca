// Starts GraphiQL with the settings the server put in #playground-config.
// Served from our own origin so the page needs no inline script and its CSP
// can stay at script-src 'self'.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("playground-config").textContent);
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: cfg.endpoint }),
      defaultQuery: cfg.defaultQuery,
      defaultHeaders: cfg.defaultHeaders,
      isHeadersEditorEnabled: true,
      // Headers hold the caller's token: keep them out of localStorage.
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: "headers",
    })
  );
})();
