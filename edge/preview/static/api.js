/**
 * The API page (/docs): the server's OpenAPI document (/openapi.json) as a table of endpoints,
 * drawn here from local files only (no documentation bundle from elsewhere).
 */

/** Rows of {method, path, summary, body, query} from an OpenAPI document, sorted by path. */
export function endpointRows(doc) {
  const rows = [];
  for (const [path, ops] of Object.entries((doc && doc.paths) || {})) {
    for (const [method, op] of Object.entries(ops)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const schema = op.requestBody?.content?.["application/json"]?.schema;
      const fields = schema && schema.properties
        ? Object.entries(schema.properties).map(([k, v]) => `${k}${(schema.required || []).includes(k) ? "" : "?"}: ${v.type || "object"}`)
        : [];
      const query = (op.parameters || []).filter((p) => p.in === "query").map((p) => `${p.name}${p.required ? "" : "?"}`);
      rows.push({ method: method.toUpperCase(), path, summary: op.summary || "", body: fields.join(", "), query: query.join(", ") });
    }
  }
  rows.sort((a, b) => (a.path === b.path ? a.method.localeCompare(b.method) : a.path.localeCompare(b.path)));
  return rows;
}

async function main() {
  const status = document.getElementById("status");
  let doc;
  try {
    const r = await fetch("/openapi.json");
    doc = await r.json();
  } catch (err) {
    status.textContent = `cannot read /openapi.json: ${err}`;
    return;
  }
  const body = document.querySelector("#api-table tbody");
  for (const row of endpointRows(doc)) {
    const tr = document.createElement("tr");
    for (const key of ["method", "path", "summary", "body", "query"]) {
      const td = document.createElement("td");
      td.textContent = row[key];
      if (key === "path" || key === "body" || key === "query") td.className = "mono";
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  status.textContent = `${doc.info?.title || "API"} ${doc.info?.version || ""}: ${body.children.length} endpoints`;
}

if (typeof document !== "undefined") main();
