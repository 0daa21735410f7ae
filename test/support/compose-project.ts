/**
 * Compose `Project`s built in tests without the loader: a service with every attribute at the
 * default the loader gives it, overridden by what the test says.
 */
import type { Network, Project, Service } from '../../src/compose/index.js';

export function service(name: string, over: Partial<Service> = {}): Service {
  return {
    name, image: 'busybox:latest', build: null, pullPolicy: 'missing', containerName: null, command: null, entrypoint: null,
    workingDir: null, user: null, hostname: null, domainname: null, environment: {}, labels: {}, ports: [], expose: [],
    volumes: [], tmpfs: [], dependsOn: {}, networks: { default: { aliases: [], ipv4Address: null, ipv6Address: null, macAddress: null, priority: 0 } },
    networkMode: null, healthcheck: null, restart: 'no', stopGracePeriod: null, stopSignal: null, init: null, tty: false,
    stdinOpen: false, privileged: false, readOnly: false, capAdd: [], capDrop: [], securityOpt: [], dns: [], dnsSearch: [],
    dnsOpt: [], extraHosts: [], sysctls: {}, ulimits: {}, memLimit: null, memReservation: null, memswapLimit: null,
    shmSize: null, cpus: null, cpuShares: null, cpuset: null, pidsLimit: null, oomScoreAdj: null, devices: [], groupAdd: [], ipc: null, pid: null,
    logging: null, platform: null, scale: 1, profiles: [], volumesFrom: [], files: [],
    ...over,
  };
}

export function network(name: string, over: Partial<Network> = {}): Network {
  return {
    name, driver: 'bridge', driverOpts: {}, external: false, internal: false, attachable: false, enableIpv6: false, labels: {},
    ipam: { config: [] }, ...over,
  };
}

export function project(name: string, services: Service[], over: Partial<Project> = {}): Project {
  return {
    name, workingDir: '/srv/app', configFiles: ['/srv/app/compose.yaml'],
    services: Object.fromEntries(services.map((s) => [s.name, s])), disabledServices: {},
    networks: { default: network(`${name}_default`) }, volumes: {}, environment: {},
    ...over,
  };
}
