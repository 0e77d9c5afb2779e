// A typed consumer of the package in Node (ESM, NodeNext resolution): every function, option
// and result type is used as a user would, and misuse is checked to be a compile error.
import init, {
  GroupsClient,
  PreviewSession,
  previewAudience,
  previewGroups,
  toSql,
  validateDefinition,
  type AudienceOptions,
  type ApiError,
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

// Read-only data (`as const`, `readonly` arrays) is accepted wherever the package only reads.
const frozen = {
  id: "household",
  source_user_attribute: "$address",
  attributes: [
    { id: "has_dog", type: "boolean_or" },
    { id: "ltv", type: "sum" },
  ],
} as const;
previewGroups(frozen, "");
validateDefinition(frozen);
new PreviewSession(frozen).free();
toSql(frozen, sqlOptions);
const frozenConditions = [
  { attribute: "household:has_dog", operator: "=", value: true },
  { attribute: "household:country", operator: "=", value: ["DE", "AT"] },
  { attribute: "household:meta", operator: "=", value: { a: [1, 2] } },
] as const;
previewAudience(frozen, "", frozenConditions);
const readonlyConditions: readonly Condition[] = conditions;
previewAudience(definition, "", readonlyConditions);
const readonlyProfiles: ReadonlyArray<{ readonly mpid: string; readonly $address: string }> = [
  { mpid: "1", $address: "12 Long Street" },
];
previewGroups(definition, readonlyProfiles);
previewGroups(definition, [{ mpid: "1", $address: "12 Long Street" }] as const);

// Profiles typed as an interface (no index signature) are profiles too.
interface Household {
  mpid: string;
  $address: string;
  has_dog?: boolean;
}
const households: Household[] = [{ mpid: "1", $address: "12 Long Street", has_dog: true }];
previewGroups(definition, households);
previewAudience(definition, households, conditions);
class Person {
  constructor(
    readonly mpid: bigint,
    readonly $address: string,
  ) {}
}
previewGroups(definition, [new Person(1n, "12 Long Street")]);

// A definition as its UTF-8 bytes (e.g. `readFileSync("household.json")`).
declare const definitionBytes: Uint8Array;
previewGroups(definitionBytes, "");
previewAudience(definitionBytes, "", conditions);
new PreviewSession(definitionBytes).free();
toSql(definitionBytes, sqlOptions);
validateDefinition(definitionBytes);

// The warnings of a DefinitionError and of a local validation failure.
declare const definitionError: DefinitionError;
const definitionWarnings: Issue[] = definitionError.warnings;
declare const apiError: ApiError;
const apiWarnings: Issue[] | undefined = apiError.warnings;

// The client takes read-only definitions and attributes, text and bytes.
const client = new GroupsClient({ workspaceId: "1000", accessToken: "token" });
void client.create(frozen);
void client.create(definitionBytes);
void client.update("household", frozen);
void client.update("household", definitionBytes);
void client.setAttributes("household", frozen.attributes);
void client.setAttributes("household", [{ id: "ltv", type: "sum" }] as const);
void client.setAttributes("household", definitionBytes);
void [definitionWarnings, apiWarnings];

// Misuse the declarations must reject.
// @ts-expect-error an unknown aggregation is not an Aggregation
const badDefinition: GroupDefinition = { id: "h", source_user_attribute: "a", attributes: [{ id: "x", type: "max" }] };
// @ts-expect-error mode is one of "create" | "update" | "patch"
validateDefinition(definition, { mode: "put" });
// @ts-expect-error format is a Format
previewGroups(definition, "", { format: "xml" });
// @ts-expect-error a number is not profiles
previewGroups(definition, 42);
// @ts-expect-error an array of strings is not profiles
previewGroups(definition, ["mpid,$address"]);
// @ts-expect-error a read-only definition still needs its fields
previewGroups({ id: "h", attributes: [] } as const, "");
// @ts-expect-error an unknown aggregation is refused in read-only attributes too
void client.setAttributes("household", [{ id: "ltv", type: "max" }] as const);
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
