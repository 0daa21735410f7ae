/**
 * Where each command lives: names (and docker's aliases) to a module under commands/ and the
 * export in it. Only the invoked command's module is imported, so start-up stays small.
 */
export interface Entry {
  module: string;
  export: string;
  short: string;
}

const e = (module: string, exp: string, short: string): Entry => ({ module, export: exp, short });

const RUN = e('run', 'run', 'Create and run a new container from an image');
const EXEC = e('exec', 'exec', 'Execute a command in a running container');
const PS = e('ps', 'ps', 'List containers');
const IMAGES = e('images', 'images', 'List images');
const VERSION = e('version', 'version', 'Show the hako version information');
const INFO = e('info', 'info', 'Display system-wide information');
const ATTACH = e('attach', 'attach', 'Attach local standard input, output, and error streams to a running container');
const COMMIT = e('commit', 'commit', "Create a new image from a container's changes");
const CP = e('cp', 'cp', 'Copy files/folders between a container and the local filesystem');
const CREATE = e('create', 'create', 'Create a new container');
const DIFF = e('diff', 'diff', "Inspect changes to files or directories on a container's filesystem");
const EXPORT = e('export', 'exportCmd', "Export a container's filesystem as a tar archive");
const IMPORT = e('import', 'importCmd', 'Import the contents from a tarball to create a filesystem image');
const INSPECT = e('inspect', 'inspect', 'Return low-level information on hako objects');
const KILL = e('lifecycle', 'kill', 'Kill one or more running containers');
const LOAD = e('load', 'load', 'Load an image from a tar archive or STDIN');
const LOGS = e('logs', 'logs', 'Fetch the logs of a container');
const PAUSE = e('lifecycle', 'pause', 'Pause all processes within one or more containers');
const RENAME = e('rename', 'rename', 'Rename a container');
const RESTART = e('lifecycle', 'restart', 'Restart one or more containers');
const RM = e('rm', 'rm', 'Remove one or more containers');
const RMI = e('rmi', 'rmi', 'Remove one or more images');
const SAVE = e('save', 'save', 'Save one or more images to a tar archive (streamed to STDOUT by default)');
const START = e('start', 'start', 'Start one or more stopped containers');
const STOP = e('lifecycle', 'stop', 'Stop one or more running containers');
const TAG = e('tag', 'tag', 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE');
const TOP = e('top', 'top', 'Display the running processes of a container');
const UNPAUSE = e('lifecycle', 'unpause', 'Unpause all processes within one or more containers');
const WAIT = e('wait', 'wait', 'Block until one or more containers stop, then print their exit codes');
const HISTORY = e('history', 'history', 'Show the history of an image');
const PORT = e('port', 'port', 'List port mappings or a specific mapping for the container');
const PULL = e('pull', 'pull', 'Download an image from a registry');
const PUSH = e('push', 'push', 'Upload an image to a registry');
const LOGIN = e('login', 'login', 'Log in to a registry');
const LOGOUT = e('login', 'logout', 'Log out from a registry');
const SEARCH = e('search', 'search', 'Search registries for images');
const EVENTS = e('events', 'events', 'Get real time events from the server');
const UPDATE = e('update', 'update', 'Update configuration of one or more containers');
const STATS = e('stats', 'stats', 'Display a live stream of container(s) resource usage statistics');
const BUILD = e('build', 'build', 'Build an image from a Dockerfile');
const COMPOSE = e('compose', 'compose', 'Define and run multi-container applications with hako');

export const COMMON: Record<string, Entry> = { run: RUN, exec: EXEC, ps: PS, pull: PULL, images: IMAGES, version: VERSION, info: INFO };

export const TOP_LEVEL: Record<string, Entry> = {
  ...COMMON,
  attach: ATTACH, commit: COMMIT, cp: CP, create: CREATE, diff: DIFF, export: EXPORT, history: HISTORY,
  import: IMPORT, inspect: INSPECT, kill: KILL, load: LOAD, logs: LOGS, pause: PAUSE, port: PORT, rename: RENAME,
  restart: RESTART, rm: RM, rmi: RMI, save: SAVE, start: START, stop: STOP, tag: TAG, top: TOP,
  unpause: UNPAUSE, wait: WAIT, events: EVENTS, update: UPDATE, stats: STATS,
  push: PUSH, login: LOGIN, logout: LOGOUT, search: SEARCH,
  build: BUILD,
  compose: COMPOSE,
};

export const GROUPS: Record<string, { short: string; commands: Record<string, Entry> }> = {
  container: {
    short: 'Manage containers',
    commands: {
      attach: ATTACH, commit: COMMIT, cp: CP, create: CREATE, diff: DIFF, exec: EXEC, export: EXPORT,
      inspect: e('inspect', 'containerInspect', 'Display detailed information on one or more containers'),
      kill: KILL, logs: LOGS, ls: PS, list: PS, ps: PS, pause: PAUSE, port: PORT,
      prune: e('prune', 'containerPrune', 'Remove all stopped containers'),
      rename: RENAME, restart: RESTART, rm: RM, remove: RM, run: RUN, start: START, stop: STOP, top: TOP,
      unpause: UNPAUSE, wait: WAIT, update: UPDATE, stats: STATS,
    },
  },
  builder: {
    short: 'Manage builds',
    commands: {
      build: BUILD,
      prune: e('builder', 'builderPrune', 'Remove build cache'),
    },
  },
  image: {
    short: 'Manage images',
    commands: {
      build: BUILD, history: HISTORY, import: IMPORT,
      bootstrap: e('bootstrap', 'imageBootstrap', 'Make a Debian base image with debootstrap (no registry needed)'),
      inspect: e('inspect', 'imageInspect', 'Display detailed information on one or more images'),
      load: LOAD, ls: IMAGES, list: IMAGES, pull: PULL, push: PUSH,
      prune: e('prune', 'imagePrune', 'Remove unused images'),
      rm: RMI, remove: RMI, save: SAVE, tag: TAG,
    },
  },
  volume: {
    short: 'Manage volumes',
    commands: {
      create: e('volume', 'volumeCreate', 'Create a volume'),
      inspect: e('volume', 'volumeInspect', 'Display detailed information on one or more volumes'),
      ls: e('volume', 'volumeLs', 'List volumes'),
      list: e('volume', 'volumeLs', 'List volumes'),
      prune: e('volume', 'volumePrune', 'Remove unused local volumes'),
      rm: e('volume', 'volumeRm', 'Remove one or more volumes'),
      remove: e('volume', 'volumeRm', 'Remove one or more volumes'),
    },
  },
  network: {
    short: 'Manage networks',
    commands: {
      connect: e('network', 'networkConnect', 'Connect a container to a network'),
      create: e('network', 'networkCreate', 'Create a network'),
      disconnect: e('network', 'networkDisconnect', 'Disconnect a container from a network'),
      inspect: e('network', 'networkInspect', 'Display detailed information on one or more networks'),
      ls: e('network', 'networkLs', 'List networks'),
      list: e('network', 'networkLs', 'List networks'),
      prune: e('network', 'networkPrune', 'Remove all unused networks'),
      rm: e('network', 'networkRm', 'Remove one or more networks'),
      remove: e('network', 'networkRm', 'Remove one or more networks'),
    },
  },
  registry: {
    short: 'Run a registry',
    commands: { serve: e('registry-serve', 'registryServe', 'Serve a registry (distribution spec) from a directory') },
  },
  system: {
    short: 'Manage hako',
    commands: { info: INFO, df: e('df', 'df', 'Show hako disk usage'), events: EVENTS },
  },
};
