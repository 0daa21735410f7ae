/** The Docker Engine API v1.47 shapes the client returns (fields hako's CLI reads; the rest pass through). */

export type Json = Record<string, unknown>;
export type Filters = Record<string, string[]>;

export interface Port { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: Port[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string> | null;
  State: string;
  Status: string;
  Mounts?: Array<{ Name?: string; Source?: string; Destination?: string; Type?: string }>;
  NetworkSettings?: { Networks?: Record<string, unknown> };
  [k: string]: unknown;
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string> | null;
  Containers: number;
  [k: string]: unknown;
}

export interface ContainerState {
  Status: string;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  State: ContainerState;
  Image: string;
  Config: Json & { Tty?: boolean; OpenStdin?: boolean; AttachStdin?: boolean; Image?: string };
  HostConfig: Json & { AutoRemove?: boolean };
  [k: string]: unknown;
}

export interface WaitResponse { StatusCode: number; Error?: { Message: string } | null }

export interface ArchiveStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

export interface ExecInspect { ID: string; Running: boolean; ExitCode: number | null; ProcessConfig?: Json; ContainerID: string; Pid?: number }

export interface PingResult { apiVersion: string; osType: string; experimental: boolean }

export interface ContainerCreateResponse { Id: string; Warnings: string[] | null }

export interface LogsOptions {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  since?: string;
  until?: string;
  timestamps?: boolean;
  tail?: string;
  details?: boolean;
  signal?: AbortSignal;
}

export interface AttachOptions {
  stream?: boolean;
  logs?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  detachKeys?: string;
}

/** One message of GET /events (docker's events.Message; the deprecated status/id/from pass through). */
export interface EventMessage {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  scope?: string;
  time?: number;
  timeNano?: number;
  [k: string]: unknown;
}
