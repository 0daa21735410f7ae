/**
 * runtime: runs containers. Builds the OCI config.json from a container's settings (namespaces,
 * mounts, cgroups, capabilities, seccomp, rlimits, user) and drives conmon + runc: create,
 * start, signals, pause, exec, attach, resize, exit codes, and re-finding containers after a
 * daemon restart.
 *
 * Left to others: the rootfs (storage/), network namespaces (network/), reading and rotating
 * the k8s-file logs conmon writes (logs/), writing /etc/hosts etc. and container state (engine/).
 */
export type {
  OciSpec, OciProcess, OciMount, OciNamespace, OciResources, OciMemory, OciCpu, OciUser,
  OciRlimit, OciSeccomp, OciCapabilities, OciLinux, OciIdMapping,
} from './oci-types.js';
export {
  buildOciSpec, withInit, DEFAULT_PATH, INIT_PATH, DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS,
  type RuntimeSettings, type MountSetting, type NamespaceSetting, type UlimitSetting, type DeviceSetting,
} from './spec.js';
export { DOCKER_DEFAULT_CAPABILITIES, ALL_CAPABILITIES, effectiveCapabilities, normalizeCapability } from './capabilities.js';
export { convertDockerSeccomp, dockerDefaultProfile, type DockerSeccompProfile } from './seccomp.js';
export { resolveUser, type ResolvedUser } from './user.js';
export { detectCgroupVersion, findInitBinary, lookPath, hostNofileLimit, hostCapabilities, hostHardLimits } from './host.js';
export { CannotStartError, startFailureExitCode } from './runc.js';
export { processAlive } from './runc-state.js';
export type {
  OciRuntime, CreateOptions, RuntimeState, ContainerStatus, ExitInfo, AttachStream, ExecOptions, ExecHandle,
} from './runtime-types.js';
export { ConmonRuncRuntime, type ConmonRuncOptions } from './conmon.js';
