import type { Json } from '../contract.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** Docker's ContainerState, as persisted and as `inspect` shows it. */
export interface ContainerState {
  Status: ContainerStatus;
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

/** Everything hakod knows about one container; persisted as JSON in the containers table. */
export interface ContainerRecord {
  Id: string;
  /** Without the leading '/'. */
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  /** The image id (sha256:...). */
  Image: string;
  /** The top layer chain of the image, the overlay's lower stack; null for an empty image. */
  ChainId: string | null;
  Config: Json;
  HostConfig: Json;
  State: ContainerState;
  RestartCount: number;
  LogPath: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  /** Whether this start's process was created with a terminal/stdin (fixed at create by runc). */
  Platform: string;
  /**
   * The user stopped or killed it (docker's HasBeenManuallyStopped): no restart policy undoes
   * that, also across hakod restarts; cleared by the next user start. Absent = false.
   */
  ManuallyStopped?: boolean;
  /**
   * State.Health (supervision keeps it): persisted with the record so that the last results
   * survive a hakod restart, as docker's do. Absent for containers without a health check.
   */
  Health?: ContainerHealth;
  /** Created by the engine itself for a build step: mounted volatile (see ContainerService.create). */
  Scratch?: true;
}

/** Docker's State.Health: the status, the failing streak and the last 5 probe results. */
export interface ContainerHealth {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function initialState(): ContainerState {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}
