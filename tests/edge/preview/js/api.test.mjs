// The API page (api.js): the OpenAPI document as rows of endpoints.
import test from "node:test";
import assert from "node:assert/strict";
import { endpointRows } from "../../../../edge/preview/static/api.js";

const doc = {
  paths: {
    "/api/take/start": {
      post: {
        summary: "start a take",
        requestBody: { content: { "application/json": { schema: {
          properties: { scene: { type: "string" }, shot: { type: "string" }, take: { type: "integer" } },
          required: ["scene", "shot"] } } } },
      },
    },
    "/api/looks/{name}.cube": {
      get: { summary: "the look as a .cube", parameters: [
        { name: "name", in: "path", required: true }, { name: "size", in: "query" }, { name: "input", in: "query" }] },
    },
    "/api/state": { get: { summary: "state" }, parameters: [] },
  },
};

test("every operation is a row, sorted by path, with its body fields and query", () => {
  const rows = endpointRows(doc);
  assert.deepEqual(rows.map((r) => `${r.method} ${r.path}`),
    ["GET /api/looks/{name}.cube", "GET /api/state", "POST /api/take/start"]);
  assert.equal(rows[2].body, "scene: string, shot: string, take?: integer");
  assert.equal(rows[0].query, "size?, input?");
  assert.equal(rows[1].summary, "state");
});

test("a document without paths gives no rows", () => {
  assert.deepEqual(endpointRows({}), []);
  assert.deepEqual(endpointRows(null), []);
});
