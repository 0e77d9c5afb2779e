// A typed consumer of the package in Node as CommonJS (NodeNext resolution, the `require`
// condition): the declarations `require("group-identity")` gets are the ones checked here.
import gi = require("group-identity");
// Browser-style code under CommonJS: `init` and `initSync` are no-ops in Node, and the default
// import (esModuleInterop) is `init`, not the whole module.
import init, { initSync } from "group-identity";

await0();
async function await0(): Promise<void> {
  await init();
  await gi.default();
  initSync();
  gi.initSync();
}

const definition: gi.GroupDefinition = {
  id: "household",
  source_user_attribute: "$address",
  attributes: [{ id: "has_dog", type: "boolean_or" }],
};

const validation: gi.Validation = gi.validateDefinition(definition, { mode: "update", groupId: "household" });
const preview: gi.Preview = gi.previewGroups(definition, "mpid,$address\n1,12 Long Street\n", { maxListed: 5 });
const stats: gi.Stats = preview.stats;
const session = new gi.PreviewSession(definition, { maxDiagnostics: 10 });
session.push(new Uint8Array([0x7b]));
const finished: gi.Preview = session.finish();
const audience: gi.AudienceResult = gi.previewAudience(
  definition,
  "",
  [{ attribute: "household:has_dog", operator: "=", value: true }],
  { limit: 5, normalizeKeys: true },
);
const queries: gi.SqlQueries = gi.toSql(definition, {
  dialect: "duckdb",
  table: "profiles",
  columns: { mpid: "mpid", attributes: "user_attributes", order: "input_order" },
});

// @ts-expect-error an audience keeps no diagnostics, so it takes no cap on them
gi.previewAudience(definition, "", [], { maxDiagnostics: 1 });
declare const client: gi.GroupsClient;
void client.create({ id: "household", source_user_attribute: "s", attributes: [] });
// @ts-expect-error create needs the definition's id
void client.create({ source_user_attribute: "s", attributes: [] });

export { validation, stats, finished, audience, queries };
