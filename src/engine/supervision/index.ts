/**
 * supervision: what keeps containers alive and tells when they are not — health checks (the
 * image's HEALTHCHECK or --health-*, run as execs in the container, State.Health, the
 * "(healthy)" in ps, health_status events, --health-on-failure), restart policies (no, always,
 * unless-stopped, on-failure[:N] with docker's backoff and RestartCount; containers that should
 * come back after hakod restarts), and the graceful stop of containers when hakod shuts down.
 *
 * It is a ContainerExtension (see ../extensions.ts) registered by daemon/wire.ts; it acts on
 * containers only through the ContainerControl the container service binds it to. Left to
 * others: the stop signal and timeout of a single stop (containers/service.ts), the event bus
 * and its /events API (extensions.ts, api/routes/events.ts).
 */
export { Supervisor, type SupervisorOptions, type HealthStatus } from './supervisor.js';
export {
  parseRestartPolicy, validateHealthcheck, healthSettingsOf, nextBackoff, policyRestarts, policyRestartsAtBoot,
  ON_FAILURE_LABEL, ON_FAILURE_ACTIONS, BACKOFF_START_MS, BACKOFF_MAX_MS, BACKOFF_RESET_AFTER_MS,
  type RestartPolicy, type HealthSettings, type OnFailureAction,
} from './policy.js';
export { formatGoDuration } from './probe.js';
