// GraphiQL on this service, from its own files (no CDN). Every request needs a bearer
// token: the Headers tab opens with a template to paste one into (`crafting token`).
const TEMPLATE = JSON.stringify(
  { Authorization: "Bearer <paste: crafting token --sub ID --role ROLE>" },
  null,
  2,
);
const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultHeaders: TEMPLATE,
    defaultEditorToolsVisibility: "headers",
    shouldPersistHeaders: true,
  }),
);
