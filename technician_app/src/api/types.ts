// Names for the API's schemas, from the generated schema.d.ts (never written by hand).
//
// The server always dumps every field of an answer, but the OpenAPI document does not list
// them as `required`, so the generator makes them optional: answers are read as DeepRequired.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type DeepRequired<T> = T extends readonly (infer U)[]
  ? DeepRequired<U>[]
  : T extends object
    ? { [K in keyof T]-?: DeepRequired<T[K]> }
    : T;

export type JobSummary = DeepRequired<Schemas["JobSummary"]>;
export type JobDetail = DeepRequired<Schemas["JobDetail"]>;
export type JobList = DeepRequired<Schemas["JobList"]>;
export type TransitionOption = DeepRequired<Schemas["TransitionOption"]>;
export type InputField = DeepRequired<Schemas["InputField"]>;
export type Reason = DeepRequired<Schemas["Reason"]>;
export type ChecklistItem = DeepRequired<Schemas["ChecklistItem"]>;
export type Me = DeepRequired<Schemas["Me"]>;
export type TokenPair = DeepRequired<Schemas["TokenPair"]>;
export type Problem = Schemas["Problem"];
export type TransitionRequest = Schemas["TransitionRequest"];
export type ReportUpdate = Schemas["ReportUpdate"];
export type Part = Schemas["Part"];
export type ChecklistAnswer = Schemas["ChecklistAnswer"];
export type SignatureUpload = Schemas["SignatureUpload"];
export type PhotoFromUpload = Schemas["PhotoFromUpload"];
export type Location = Schemas["Location"];

/** A problem answer with the extension members the mobile API adds (not in the document). */
export type ProblemBody = Problem & {
  reasons?: Reason[];
  current_version?: number;
  state?: string;
  transitions?: TransitionOption[];
};
