/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Any JSON value given to the package: as `JsonValue`, read-only arrays and objects too
 * (`as const` data). */
export type JsonInput =
  | string
  | number
  | boolean
  | null
  | readonly JsonInput[]
  | { readonly [key: string]: JsonInput };

/** Which endpoint a definition is meant for: POST (`create`), PUT (`update`) or PATCH (`patch`). */
export type Mode = "create" | "update" | "patch";

/** How a group attribute is aggregated over the members. */
export type Aggregation = "latest" | "boolean_or" | "sum" | "average";

export interface GroupAttribute {
  id: string;
  type: Aggregation;
}

/** A group definition as the Platform API takes it. Read-only arrays are accepted
 * (`as const`). A definition may also be given as JSON text or its UTF-8 bytes (a
 * `Uint8Array`, e.g. `readFileSync("household.json")`). */
export interface GroupDefinition {
  id: string;
  description?: string;
  source_user_attribute: string;
  attributes: readonly GroupAttribute[];
}

export interface ValidateOptions {
  /** Default `"create"`. */
  mode?: Mode;
  /** The group id from the request path; required when `mode` is `"update"`. */
  groupId?: string;
}

/** One problem in a definition. */
export interface Issue {
  /** Stable machine code, e.g. `too_long`, `unknown_aggregation`, `unknown_field`. */
  code: string;
  /** JSON Pointer to the offending value; `""` for the whole body. */
  path: string;
  /** Human text naming the limit and the value found. */
  message: string;
}

/** The outcome of `validateDefinition`: data, never thrown. */
export interface Validation {
  valid: boolean;
  errors: Issue[];
  warnings: Issue[];
}

/** Profile input format; `"auto"` detects it from the first non-blank character. */
export type Format = "auto" | "json" | "ndjson" | "csv";

/** One profile, in the Profile API shape or flat. A BigInt (an mpid past 2^53, or any
 * value) is written as its exact digits. Any object type is accepted as a profile,
 * interfaces without an index signature included; this one only documents the shape. */
export interface ProfileRecord {
  mpid?: string | number | bigint | null;
  [key: string]: unknown;
}

/** Profiles: text in any format, its UTF-8 bytes, or an array (read-only too) of profile
 * objects of any object type. */
export type Profiles = string | Uint8Array | readonly object[];

export interface PreviewOptions {
  /** Default `"auto"`; ignored for an array of objects, which is always JSON. */
  format?: Format;
  /** Trim, collapse inner white space and lower-case keys before comparing. Default `false`. */
  normalizeKeys?: boolean;
  /** Per-record diagnostics kept (default 1000); the rest are counted in `diagnosticsSuppressed`. */
  maxDiagnostics?: number;
  /** Entries kept in `singletons` and `shortKeys` (default 1000). */
  maxListed?: number;
}

/** An audience has no diagnostics nor lists: only the reading options and `limit`. */
export interface AudienceOptions {
  /** Default `"auto"`; ignored for an array of objects, which is always JSON. */
  format?: Format;
  /** Trim, collapse inner white space and lower-case keys before comparing. Default `false`. */
  normalizeKeys?: boolean;
  /** Most mpids returned (default 1000). */
  limit?: number;
}

/** Counts that always add up: `profiles = noKey + shortKey + singletons + groupedProfiles + oversizedProfiles`. */
export interface Stats {
  profiles: number;
  skipped: number;
  noKey: number;
  shortKey: number;
  singletons: number;
  groups: number;
  groupedProfiles: number;
  oversizedGroups: number;
  oversizedProfiles: number;
}

/** A group that would form, its members (mpids, in input order) and what each inherits. */
export interface Group {
  key: string;
  members: string[];
  /** `"group:attribute"` to value, in definition order. */
  attributes: { [name: string]: JsonValue };
}

/** A key held by more than 10 profiles: no group forms. */
export interface Oversized {
  key: string;
  size: number;
}

/** A key held by exactly one profile. */
export interface Singleton {
  key: string;
  mpid: string;
}

/** A key under 5 characters and how many profiles hold it. */
export interface KeyCount {
  key: string;
  count: number;
}

export type Level = "error" | "warning";

/** A problem found in the profiles; previews never throw for these. */
export interface Diagnostic {
  level: Level;
  code: string;
  message: string;
  line?: number;
  column?: number;
  mpid?: string;
  attribute?: string;
}

/** What the weekly group job would do to a set of profiles. */
export interface Preview {
  groupId: string;
  /** The input format used (detected or named). */
  format: Format;
  stats: Stats;
  groups: Group[];
  oversized: Oversized[];
  /** Keys held by one profile, in input order (at most `maxListed`). */
  singletons: Singleton[];
  /** Keys under 5 characters, in input order (at most `maxListed`). */
  shortKeys: KeyCount[];
  /** How many distinct keys under 5 characters there were, listed or not. */
  distinctShortKeys: number;
  diagnostics: Diagnostic[];
  diagnosticsSuppressed: number;
}

export type Operator = "=" | "!=" | ">" | ">=" | "<" | "<=" | "exists" | "not_exists" | "contains";

/** An audience condition; `value` is omitted for `exists` and `not_exists`. */
export interface Condition {
  attribute: string;
  operator: Operator;
  value?: JsonInput;
}

export interface AudienceResult {
  /** Profiles considered. */
  total: number;
  /** Profiles matching every condition. */
  matched: number;
  /** Matching mpids, in input order, at most `options.limit`. */
  mpids: string[];
}

/** Thrown when a definition cannot drive a preview, an audience or `toSql`. */
export interface DefinitionError extends Error {
  name: "DefinitionError";
  /** The validation errors. */
  issues: Issue[];
  /** The validation warnings, e.g. an unknown field `atributes` ("did you mean"). */
  warnings: Issue[];
}

/** Thrown for an unusable audience condition. */
export interface ConditionError extends Error {
  name: "ConditionError";
  /** Index of the condition in the list. */
  index: number;
}

/** The SQL dialect `toSql` writes. */
export type SqlDialect = "duckdb" | "snowflake" | "bigquery" | "spark";

/** Column names of the profile table, one row per profile. */
export interface SqlColumns {
  /** Integer or string mpids; NULL and empty mpids are dropped. */
  mpid: string;
  /** The flat user-attribute object: JSON (DuckDB, BigQuery), VARIANT (Snowflake) or a JSON string (Spark). */
  attributes: string;
  /** Optional object of attribute key to time, of the same type as `attributes` (used by `latest`). */
  attributeTimestamps?: string;
  /** Optional profile time: an RFC 3339 string or epoch milliseconds. */
  updatedAt?: string;
  /** Optional profile time used when `updatedAt` gives none; same forms. */
  lastStoredTimestampMs?: string;
  /** Input order: the first row of an mpid stands, and later rows win `latest` ties. */
  order: string;
}

export interface SqlOptions {
  dialect: SqlDialect;
  /** `table`, `schema.table` or `db.schema.table`; each part is quoted. */
  table: string;
  columns: SqlColumns;
}

/** The two queries `toSql` writes. */
export interface SqlQueries {
  /** One row per grouped profile: `mpid`, `group_key` and one `group:attribute` column per group attribute. */
  groups: string;
  /** `group_key, size` for keys held by more than 10 profiles. */
  oversized: string;
}

/** Thrown by `toSql` for a name no SQL text can carry (empty, holding a NUL character, or for Spark holding `${`). */
export interface SqlError extends Error {
  name: "SqlError";
}
