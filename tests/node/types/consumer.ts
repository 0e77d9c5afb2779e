// A typed consumer of the package in Node (ESM, NodeNext resolution): every function, option
// and result type is used as a user would, and misuse is checked to be a compile error.
import init, {
  PreviewSession,
  previewAudience,
  previewGroups,
  toSql,
  validateDefinition,
  type AudienceOptions,
  type AudienceResult,
  type Condition,
  type ConditionError,
  type DefinitionError,
  type Diagnostic,
  type Group,
  type GroupDefinition,
  type Issue,
  type Preview,
  type PreviewOptions,
  type SqlColumns,
  type SqlDialect,
  type SqlError,
  type SqlOptions,
  type SqlQueries,
  type Stats,
  type Validation,
} from "group-identity";

const definition: GroupDefinition = {
  id: "household",
  source_user_attribute: "$address",
  attributes: [
    { id: "has_dog", type: "boolean_or" },
    { id: "ltv", type: "sum" },
  ],
};

await init();

const validation: Validation = validateDefinition(definition);
const fromText: Validation = validateDefinition(JSON.stringify(definition), { mode: "update", groupId: "household" });
const issues: Issue[] = [...validation.errors, ...fromText.warnings];
const codes: string[] = issues.map((issue) => `${issue.code} at ${issue.path}: ${issue.message}`);

const options: PreviewOptions = { format: "ndjson", normalizeKeys: true, maxDiagnostics: 10, maxListed: 5 };
const preview: Preview = previewGroups(definition, '{"mpid":"1","$address":"12 Long Street"}\n', options);
const stats: Stats = preview.stats;
const total: number = stats.noKey + stats.shortKey + stats.singletons + stats.groupedProfiles + stats.oversizedProfiles;
const firstGroup: Group | undefined = preview.groups[0];
const members: string[] = firstGroup?.members ?? [];
const dog = firstGroup?.attributes["household:has_dog"];
const diagnostics: Diagnostic[] = preview.diagnostics;
const lines: Array<number | undefined> = diagnostics.map((d) => d.line);
const levels: Array<"error" | "warning"> = diagnostics.map((d) => d.level);
const suppressed: number = preview.diagnosticsSuppressed;
const oversized: Array<[string, number]> = preview.oversized.map((o) => [o.key, o.size]);

previewGroups(JSON.stringify(definition), new Uint8Array([123, 125]));
previewGroups(definition, [{ mpid: "1", $address: "12 Long Street" }, { mpid: 2, user_attributes: {} }]);

const session = new PreviewSession(definition, { maxDiagnostics: 100 });
session.push("mpid,$address\n1,12 Long Street\n");
session.push(new Uint8Array([0xc3]));
const bytesRead: number = session.bytesRead;
const fromSession: Preview = session.finish();
session.free();

const conditions: Condition[] = [
  { attribute: "household:has_dog", operator: "=", value: true },
  { attribute: "household:ltv", operator: ">=", value: 100 },
  { attribute: "email", operator: "exists" },
];
const audienceOptions: AudienceOptions = { limit: 10, format: "auto" };
const audience: AudienceResult = previewAudience(definition, "", conditions, audienceOptions);
const mpids: string[] = audience.mpids;

const columns: SqlColumns = { mpid: "mpid", attributes: "user_attributes", order: "input_order" };
const dialects: SqlDialect[] = ["duckdb", "snowflake", "bigquery", "spark"];
const sqlOptions: SqlOptions = {
  dialect: dialects[0]!,
  table: "analytics.profiles",
  columns: { ...columns, attributeTimestamps: "user_attribute_timestamps", updatedAt: "updated_at" },
};
const queries: SqlQueries = toSql(definition, sqlOptions);
const sqlText: string[] = [queries.groups, queries.oversized, toSql(JSON.stringify(definition), sqlOptions).groups];
try {
  toSql(definition, { ...sqlOptions, table: "db..t" });
} catch (error) {
  if (error instanceof Error && error.name === "SqlError") {
    const sqlError: SqlError = error as SqlError;
    void sqlError;
  }
}

try {
  previewGroups({ ...definition, id: "x" }, "");
} catch (error) {
  if (error instanceof Error && error.name === "DefinitionError") {
    const issuesThrown: Issue[] = (error as DefinitionError).issues;
    void issuesThrown;
  } else if (error instanceof Error && error.name === "ConditionError") {
    const index: number = (error as ConditionError).index;
    void index;
  }
}

// Misuse the declarations must reject.
// @ts-expect-error an unknown aggregation is not an Aggregation
const badDefinition: GroupDefinition = { id: "h", source_user_attribute: "a", attributes: [{ id: "x", type: "max" }] };
// @ts-expect-error mode is one of "create" | "update" | "patch"
validateDefinition(definition, { mode: "put" });
// @ts-expect-error format is a Format
previewGroups(definition, "", { format: "xml" });
// @ts-expect-error a number is not profiles
previewGroups(definition, 42);
// @ts-expect-error an unknown operator is not an Operator
const badCondition: Condition = { attribute: "a", operator: "~" };
// @ts-expect-error a dialect is a SqlDialect
toSql(definition, { ...sqlOptions, dialect: "mysql" });
// @ts-expect-error the options (and their columns) are required
toSql(definition);
// @ts-expect-error the order column is required
const noOrder: SqlColumns = { mpid: "mpid", attributes: "a" };
// @ts-expect-error mpids are strings, never numbers
const numericMpid: number = preview.groups[0]!.members[0]!;
// @ts-expect-error stats are numbers
const statsText: string = preview.stats.profiles;

void [codes, total, members, dog, lines, levels, suppressed, oversized, bytesRead, fromSession, mpids];
void [badDefinition, badCondition, numericMpid, statsText, noOrder, sqlText];
