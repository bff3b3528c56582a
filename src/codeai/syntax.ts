/**
 * The syntax the cache reads out of a `.cai` spec: config entries, middleware declarations,
 * endpoints (with their annotations) and integrations. Everything else is skipped.
 */

/** A 1-based source position. */
export interface Pos {
  line: number;
  column: number;
}

/** A value on the right of `key:` (or an argument), as written. */
export type Value =
  | { kind: 'string'; value: string; pos: Pos }
  /** A number, possibly with a unit glued on (`300`, `5m`, `1.5h`). */
  | { kind: 'number'; raw: string; pos: Pos }
  /** An identifier, dotted names joined (`redis`, `true`, `endpoint.secret`). */
  | { kind: 'ident'; name: string; pos: Pos }
  | { kind: 'call'; name: string; args: Value[]; pos: Pos }
  | { kind: 'list'; items: Value[]; pos: Pos }
  /** `{ … }` or `name { … }` (`cache: redis { ttl: 5m }`). */
  | { kind: 'block'; head: string | undefined; entries: Entry[]; pos: Pos }
  /** Something that is not a value this loader reads. */
  | { kind: 'other'; pos: Pos };

/** `key: value`. */
export interface Entry {
  key: string;
  pos: Pos;
  value: Value;
}

/** `@name` or `@name(args…)` before an endpoint. */
export interface Annotation {
  name: string;
  args: Value[];
  pos: Pos;
}

/** A `middleware` declaration, in any of its forms. */
export interface MiddlewareDecl {
  name: string;
  pos: Pos;
  /** From `type X` in the body or `middleware name X {`. */
  type: string | undefined;
  typePos: Pos | undefined;
  /** The `config { … }` entries, or the body's own `key: value` entries. */
  config: Entry[];
}

/** An `endpoint` declaration. */
export interface EndpointDecl {
  method: string;
  path: string;
  pos: Pos;
  pathPos: Pos;
  annotations: Annotation[];
  middleware: { name: string; pos: Pos }[];
  /** The documentation form `cache: 5m`. */
  cache: Entry | undefined;
  /** The documentation form `auth: required | optional | none`. */
  auth: Entry | undefined;
}

/** An `operation` inside an integration. */
export interface OperationDecl {
  name: string;
  pos: Pos;
  entries: Entry[];
}

/** An `integration` declaration. */
export interface IntegrationDecl {
  name: string;
  pos: Pos;
  entries: Entry[];
  operations: OperationDecl[];
}

/** Everything the cache reads from a spec. */
export interface SpecSyntax {
  config: Entry[];
  middlewares: MiddlewareDecl[];
  endpoints: EndpointDecl[];
  integrations: IntegrationDecl[];
}
