// nftRun: an nftables script applied through libnftables, in-process, instead of spawning
// `nft -f -` (a fork of hakod blocks its event loop ~1.3 ms, and an apply takes ~15 ms against
// ~0.8 ms here). Compiled only when binding.gyp finds libnftables (see detect-nftables.sh);
// without it the addon has no nftRun and src/network/host.ts spawns nft.
//
// The script runs on the libuv thread pool (napi async work). libnftables is not thread-safe
// (a context, and some caches that are global), so one context, made at first use, is shared
// under a mutex: making one reads /etc/iproute2 tables and opens a netfilter socket, and it keeps
// its ruleset cache between runs (revalidated against the kernel's generation id each time).
#define _GNU_SOURCE
#include <node_api.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "nft.h"

static pthread_mutex_t nft_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nft_ctx *nft_shared;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *script;
  int rc;
  char *error;   // nft's error text (what `nft -f` prints on stderr), or NULL
  char *output;  // what nft prints on stdout (listings), or NULL
} nft_job_t;

// The script is read as a file (a memfd), not with nft_run_cmd_from_buffer: for a buffer,
// libnftables 1.0 marks every error on the script's first line and without a line number, while
// for a file it prints what `nft -f -` does. The memfd's name in those locations is then
// rewritten to `/dev/stdin`, so the text is exactly nft's own.
static int run_script(struct nft_ctx *ctx, const char *script, char **error) {
  int fd = memfd_create("hako-nft", MFD_CLOEXEC);
  if (fd < 0) {
    *error = strdup("nftRun: memfd_create failed");
    return -1;
  }
  size_t len = strlen(script), off = 0;
  while (off < len) {
    ssize_t n = write(fd, script + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      *error = strdup("nftRun: writing the script to a memfd failed");
      return -1;
    }
    off += (size_t)n;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  // Output and errors go to the context's buffers; each run starts them afresh.
  int rc = nft_run_cmd_from_filename(ctx, path);
  close(fd);
  const char *err = nft_ctx_get_error_buffer(ctx);
  if (err == NULL || err[0] == '\0') return rc;
  const char *stdin_name = "/dev/stdin";
  size_t plen = strlen(path), slen = strlen(stdin_name);
  char *out = malloc(strlen(err) / plen * slen + strlen(err) + 1);  // never longer than this
  if (out == NULL) return rc;
  char *w = out;
  for (const char *r = err; *r != '\0';) {
    if ((r == err || r[-1] == '\n') && strncmp(r, path, plen) == 0 && r[plen] == ':') {
      memcpy(w, stdin_name, slen);
      w += slen;
      r += plen;
    } else {
      *w++ = *r++;
    }
  }
  *w = '\0';
  *error = out;
  return rc;
}

// libnftables' context keeps a NETLINK_NETFILTER socket open without close-on-exec (libmnl makes
// it so), and hakod spawns conmon, runc and others all the time: each would inherit it. Mark it.
static void cloexec_netfilter_sockets(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    int fd = atoi(e->d_name);
    if (fd <= 2 || fd == dirfd(d)) continue;
    int domain = 0, protocol = 0;
    socklen_t len = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_NETLINK) continue;
    len = sizeof protocol;
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0 || protocol != NETLINK_NETFILTER) continue;
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
  closedir(d);
}

static void nft_execute(napi_env env, void *data) {
  (void)env;
  nft_job_t *job = data;
  pthread_mutex_lock(&nft_lock);
  if (nft_shared == NULL) {
    // nft_ctx_new opens a netfilter socket and calls exit() when it cannot (EMFILE, no nf_tables,
    // no permission): that would end hakod. Open one ourselves first and report why instead.
    int probe = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (probe < 0) {
      char msg[160];
      snprintf(msg, sizeof msg, "libnftables: cannot open a netfilter socket: %s", strerror(errno));
      job->rc = -1;
      job->error = strdup(msg);
      pthread_mutex_unlock(&nft_lock);
      return;
    }
    close(probe);
    nft_shared = nft_ctx_new(NFT_CTX_DEFAULT);
    if (nft_shared != NULL && (nft_ctx_buffer_error(nft_shared) != 0 || nft_ctx_buffer_output(nft_shared) != 0)) {
      nft_ctx_free(nft_shared);
      nft_shared = NULL;
    }
    if (nft_shared != NULL) cloexec_netfilter_sockets();
  }
  if (nft_shared == NULL) {
    job->rc = -1;
    job->error = strdup("libnftables: cannot make a context (out of memory)");
  } else {
    job->rc = run_script(nft_shared, job->script, &job->error);
    const char *out = nft_ctx_get_output_buffer(nft_shared);
    if (out != NULL && out[0] != '\0') job->output = strdup(out);
  }
  pthread_mutex_unlock(&nft_lock);
}

static void nft_complete(napi_env env, napi_status status, void *data) {
  nft_job_t *job = data;
  if (status == napi_ok && job->rc == 0) {
    napi_value out;
    napi_create_string_utf8(env, job->output != NULL ? job->output : "", NAPI_AUTO_LENGTH, &out);
    napi_resolve_deferred(env, job->deferred, out);
  } else {
    const char *text = status != napi_ok ? "nftRun: cancelled"
                       : job->error != NULL ? job->error
                                            : "nft: the script failed (no message)";
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ')) len--;
    napi_value code, msg, error;
    napi_create_string_utf8(env, "ENFT", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, text, len, &msg);
    napi_create_error(env, code, msg, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  free(job->script);
  free(job->error);
  free(job->output);
  free(job);
}

static napi_value js_nft_run(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_valuetype t = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  size_t len;
  if (t != napi_string || napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "script must be a string");
    return NULL;
  }
  nft_job_t *job = calloc(1, sizeof *job);
  if (job != NULL) job->script = malloc(len + 1);
  if (job == NULL || job->script == NULL) {
    free(job);
    napi_throw_error(env, "ENOMEM", "nftRun: out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], job->script, len + 1, &len);
  napi_value promise, name;
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "hako_native.nftRun", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, nft_execute, nft_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    if (job->work != NULL) napi_delete_async_work(env, job->work);
    free(job->script);
    // The promise is already made: settle it rather than leave it pending for ever.
    napi_value code, msg, error;
    napi_create_string_utf8(env, "ENFT", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, "nftRun: cannot queue the work", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &error);
    napi_reject_deferred(env, job->deferred, error);
    free(job);
    return promise;
  }
  return promise;
}

napi_status hako_nft_register(napi_env env, napi_value exports) {
  napi_property_descriptor prop = {"nftRun", NULL, js_nft_run, NULL, NULL, NULL, napi_enumerable, NULL};
  return napi_define_properties(env, exports, 1, &prop);
}
