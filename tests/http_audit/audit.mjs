// The graphql-http audit (GraphQL over HTTP spec: MUSTs and SHOULDs) against a running
// service, every request carrying a bearer token. Prints the results as JSON.
import { auditServer } from "graphql-http";

const url = process.env.AUDIT_URL;
const token = process.env.AUDIT_TOKEN;
if (!url || !token) {
  console.error("set AUDIT_URL and AUDIT_TOKEN");
  process.exit(2);
}

function withToken(input, init = {}) {
  const headers = new Headers(init.headers ?? {});
  headers.set("authorization", `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: withToken });
const summary = await Promise.all(
  results.map(async (r) => ({
    id: r.id,
    name: r.name,
    status: r.status,
    reason: r.status === "ok" ? null : r.reason,
    response: r.status === "ok" ? null : await r.response?.text?.().catch(() => null),
  })),
);
console.log(JSON.stringify(summary));
