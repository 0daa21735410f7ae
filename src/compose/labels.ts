/**
 * The labels docker compose v2 puts on what it creates (github.com/docker/compose pkg/api/labels.go),
 * so `docker compose` and `hako compose` find each other's projects, and the names it gives them.
 */
export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
export const NETWORK_LABEL = 'com.docker.compose.network';
export const VOLUME_LABEL = 'com.docker.compose.volume';
export const CONFIG_HASH_LABEL = 'com.docker.compose.config-hash';
export const CONTAINER_NUMBER_LABEL = 'com.docker.compose.container-number';
export const ONEOFF_LABEL = 'com.docker.compose.oneoff';
export const WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir';
export const CONFIG_FILES_LABEL = 'com.docker.compose.project.config_files';
export const ENV_FILE_LABEL = 'com.docker.compose.project.environment_file';
export const IMAGE_LABEL = 'com.docker.compose.image';
export const DEPENDENCIES_LABEL = 'com.docker.compose.depends_on';
export const VERSION_LABEL = 'com.docker.compose.version';
export const REPLACE_LABEL = 'com.docker.compose.replace';

/** The compose version hako writes in `com.docker.compose.version` (the behaviour it follows). */
export const COMPOSE_VERSION = '2.29.7';

/** `<project>-<service>-<n>` (compose v2's separator is "-"), or the service's container_name. */
export function containerName(project: string, service: { name: string; containerName: string | null }, number: number): string {
  return service.containerName ?? `${project}-${service.name}-${number}`;
}
