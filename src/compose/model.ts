/**
 * A Compose project after loading: the canonical form `docker compose config --format json`
 * prints (compose-go's types), which is what the loader produces (files parsed, `.env` and
 * environment interpolated, `extends` and several `-f` files merged, short syntaxes expanded,
 * relative paths made absolute, profiles applied) and what convergence consumes. Nothing here is
 * optional "because the file may say it two ways": each attribute has one shape.
 *
 * Attributes hako does not implement are refused by the loader with a message naming them (never
 * dropped silently); they are not in these types.
 */

export interface Project {
  /** -p, COMPOSE_PROJECT_NAME, the top-level `name:`, else the working dir's base name; normalized (lowercase, [a-z0-9_-], starting with a letter or digit). */
  name: string;
  /** The directory relative paths resolve against: --project-directory, else the first file's directory. */
  workingDir: string;
  /** Absolute paths of the files loaded, in order (the `com.docker.compose.project.config_files` label). */
  configFiles: string[];
  /** Every service of the files, keyed by name, with profiles applied (services of inactive profiles left out). */
  services: Record<string, Service>;
  /** Services of inactive profiles, by name: `up` of one of them by name activates it. */
  disabledServices: Record<string, Service>;
  /** Top-level networks, keyed by their key in the file; `default` is always there (added when a service uses it). */
  networks: Record<string, Network>;
  volumes: Record<string, Volume>;
  /** The interpolation environment after `.env` (variables the files used), for `config --environment`. */
  environment: Record<string, string>;
}

export interface Network {
  /** The engine's name: `name:` when given, else `<project>_<key>`; an external network's own name. */
  name: string;
  /** Default `bridge`. */
  driver: string;
  driverOpts: Record<string, string>;
  external: boolean;
  internal: boolean;
  attachable: boolean;
  enableIpv6: boolean;
  labels: Record<string, string>;
  ipam: { driver?: string; config: Array<{ subnet?: string; ipRange?: string; gateway?: string; auxAddresses?: Record<string, string> }> };
}

export interface Volume {
  /** The engine's name: `name:` when given, else `<project>_<key>`; an external volume's own name. */
  name: string;
  /** Default `local`. */
  driver: string;
  driverOpts: Record<string, string>;
  external: boolean;
  labels: Record<string, string>;
}

export interface Service {
  name: string;
  /** From `image:`; when absent and `build` is set: `<project>-<service>` (docker compose v2's default image name). */
  image: string;
  build: Build | null;
  /** `pull_policy`: always | never | missing (default) | build | daily/weekly/every_* (as missing). */
  pullPolicy: 'always' | 'never' | 'missing' | 'build';
  containerName: string | null;
  /** null: the image's; [] means an explicitly empty command. */
  command: string[] | null;
  entrypoint: string[] | null;
  workingDir: string | null;
  user: string | null;
  hostname: string | null;
  domainname: string | null;
  /** Final environment: `env_file`s in order, then `environment`; a null value means "take it from the host environment if set". */
  environment: Record<string, string | null>;
  labels: Record<string, string>;
  ports: Port[];
  /** `expose:` entries as "80" or "80/udp". */
  expose: string[];
  volumes: Mount[];
  tmpfs: string[];
  /** Service name -> condition; from `depends_on` (both syntaxes) and `network_mode: service:x` / `volumes_from`. */
  dependsOn: Record<string, { condition: 'service_started' | 'service_healthy' | 'service_completed_successfully'; required: boolean; restart: boolean }>;
  /** Key in Project.networks -> attachment; empty when networkMode is not the default. */
  networks: Record<string, ServiceNetwork>;
  /** null: the project's networks (bridge); else "none" | "host" | "container:<name>" | "service:<name>". */
  networkMode: string | null;
  healthcheck: Healthcheck | null;
  /** no (default) | always | on-failure[:N] | unless-stopped */
  restart: string;
  /** Seconds, default 10. */
  stopGracePeriod: number | null;
  stopSignal: string | null;
  init: boolean | null;
  tty: boolean;
  stdinOpen: boolean;
  privileged: boolean;
  readOnly: boolean;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOpt: string[];
  /** "host:ip" entries, as `--add-host`. */
  extraHosts: string[];
  sysctls: Record<string, string>;
  ulimits: Record<string, { soft: number; hard: number }>;
  /** Bytes; null when unset. */
  memLimit: number | null;
  memReservation: number | null;
  memswapLimit: number | null;
  shmSize: number | null;
  cpus: number | null;
  cpuShares: number | null;
  cpuset: string | null;
  pidsLimit: number | null;
  /** `oom_score_adj` (-1000..1000); null when unset. */
  oomScoreAdj: number | null;
  devices: string[];
  groupAdd: string[];
  ipc: string | null;
  pid: string | null;
  logging: { driver: string | null; options: Record<string, string> } | null;
  platform: string | null;
  /** `scale` or `deploy.replicas`; default 1. */
  scale: number;
  /** Profiles the service belongs to ([] = always active). */
  profiles: string[];
  /** `volumes_from` entries: "service:<name>[:ro|rw]" or "container:<name>[:ro|rw]". */
  volumesFrom: string[];
  /**
   * `secrets`/`configs` whose source is `environment:` or `content:`: written into the container
   * (PUT /containers/{id}/archive) after it is created and before it starts, as docker compose
   * does outside swarm. File sources are read-only binds in `volumes` instead.
   */
  files: InjectedFile[];
}

export interface InjectedFile {
  /** Absolute path in the container: `/run/secrets/<target>` (a secret), `/<target>` (a config), or the absolute target. */
  target: string;
  /** null: read from `hostFile`, or its `environment:` variable is unset (`up`/`run` refuse the service then, as compose does; `config`/`exec` still work). */
  content: string | null;
  /** A `file:` source given `mode`/`uid`/`gid` (a bind mount could not honour them): copied in, read when the container is made. */
  hostFile: string | null;
  /** The source: `environment:`'s variable, or null for `content:`. */
  environment: string | null;
  /** `secret` or `config`, and its key in the file: for messages. */
  kind: 'secret' | 'config';
  source: string;
  /** Permission bits, default 0o444. */
  mode: number;
  /** null: not given (the tar's owner is then not applied: root, as compose's CopyUIDGID false). */
  uid: number | null;
  gid: number | null;
}

export interface Build {
  /** Absolute directory (or a URL, which hako refuses at build time). */
  context: string;
  /** Relative to the context, default "Dockerfile"; or `dockerfile_inline` content. */
  dockerfile: string;
  dockerfileInline: string | null;
  args: Record<string, string | null>;
  target: string | null;
  labels: Record<string, string>;
  noCache: boolean;
  pull: boolean;
  network: string | null;
  extraHosts: string[];
  shmSize: number | null;
  /** Tags besides the service's image. */
  tags: string[];
  cacheFrom: string[];
}

export interface Port {
  /** Container port. */
  target: number;
  /** Host port or range ("8080", "8080-8081"); null: an ephemeral port. */
  published: string | null;
  hostIp: string | null;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export interface Mount {
  type: 'bind' | 'volume' | 'tmpfs';
  /** bind: absolute host path; volume: key in Project.volumes, or null for an anonymous volume; tmpfs: null. */
  source: string | null;
  target: string;
  readOnly: boolean;
  /** bind: create the host path when missing (the short syntax does; the long syntax's bind.create_host_path). */
  createHostPath: boolean;
  bindPropagation: string | null;
  volumeNocopy: boolean;
  tmpfsSize: number | null;
}

export interface ServiceNetwork {
  aliases: string[];
  ipv4Address: string | null;
  ipv6Address: string | null;
  macAddress: string | null;
  priority: number;
}

export interface Healthcheck {
  /** ["NONE"] disables the image's; else ["CMD", ...] or ["CMD-SHELL", "..."]. */
  test: string[];
  /** Nanoseconds, as the Engine API's HealthConfig; null: the image's/engine's default. */
  interval: number | null;
  timeout: number | null;
  startPeriod: number | null;
  startInterval: number | null;
  retries: number | null;
  disable: boolean;
}
