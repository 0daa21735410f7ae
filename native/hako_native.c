// hako_native: the few Linux system calls Node 20 does not expose (see src/native/index.ts).
// Plain C N-API, so it builds with nothing but node's headers and a C compiler.
//
// Errors mirror Node's fs errors: `code` is the errno name, plus `errno`, `syscall` and `path`.
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <linux/netlink.h>
#include <time.h>
#include <unistd.h>

#ifdef HAKO_HAVE_NFTABLES
#include "nft.h"
#endif

#define CHECK(call)                                                                   \
  do {                                                                                \
    if ((call) != napi_ok) {                                                          \
      napi_throw_error(env, "EINVAL", "hako_native: invalid arguments to " #call);    \
      return NULL;                                                                    \
    }                                                                                 \
  } while (0)

// ---- errors --------------------------------------------------------------------------------

static napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
  const char *code = strerrorname_np(err);
  char codebuf[16];
  if (code == NULL) {
    snprintf(codebuf, sizeof codebuf, "E%d", err);
    code = codebuf;
  }
  char msg[4400];
  if (path != NULL)
    snprintf(msg, sizeof msg, "%s: %s, %s '%s'", code, strerror(err), syscall, path);
  else
    snprintf(msg, sizeof msg, "%s: %s, %s", code, strerror(err), syscall);
  napi_value code_v, msg_v, error, errno_v, syscall_v;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_v);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &msg_v);
  napi_create_error(env, code_v, msg_v, &error);
  napi_create_int32(env, -err, &errno_v);
  napi_set_named_property(env, error, "errno", errno_v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_v);
  napi_set_named_property(env, error, "syscall", syscall_v);
  if (path != NULL) {
    napi_value path_v;
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &path_v);
    napi_set_named_property(env, error, "path", path_v);
  }
  return error;
}

static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_throw(env, errno_error(env, err, syscall, path));
  return NULL;
}

// ---- arguments -----------------------------------------------------------------------------

// Copies a JS string argument into malloc'd memory; NULL/undefined give NULL when `optional`.
// Returns false (with an exception pending) on a wrong type.
static bool get_string(napi_env env, napi_value v, const char *what, bool optional, char **out) {
  *out = NULL;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (optional && (t == napi_null || t == napi_undefined)) return true;
  size_t len;
  if (t != napi_string || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a string", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  *out = malloc(len + 1);
  napi_get_value_string_utf8(env, v, *out, len + 1, &len);
  return true;
}

static bool get_int64(napi_env env, napi_value v, const char *what, int64_t *out) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a number", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  return true;
}

static void get_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  for (size_t i = 0; i < n; i++) argv[i] = NULL;
  napi_get_cb_info(env, info, &n, argv, NULL, NULL);
  napi_value undef;
  napi_get_undefined(env, &undef);
  for (size_t i = 0; i < n; i++)
    if (argv[i] == NULL) argv[i] = undef;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// ---- mknod, xattrs, mount ------------------------------------------------------------------

static napi_value js_mknod(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  get_args(env, info, 4, argv);
  char *path;
  int64_t mode, major, minor;
  if (!get_string(env, argv[0], "path", false, &path)) return NULL;
  if (!get_int64(env, argv[1], "mode", &mode) || !get_int64(env, argv[2], "major", &major) ||
      !get_int64(env, argv[3], "minor", &minor)) {
    free(path);
    return NULL;
  }
  napi_value r = undefined(env);
  if (mknod(path, (mode_t)mode, makedev((unsigned)major, (unsigned)minor)) != 0)
    r = throw_errno(env, errno, "mknod", path);
  free(path);
  return r;
}

static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  get_args(env, info, 3, argv);
  char *path, *name;
  void *data;
  size_t size;
  bool is_buffer = false;
  napi_is_buffer(env, argv[2], &is_buffer);
  if (!is_buffer) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "value must be a Buffer");
    return NULL;
  }
  napi_get_buffer_info(env, argv[2], &data, &size);
  if (!get_string(env, argv[0], "path", false, &path)) return NULL;
  if (!get_string(env, argv[1], "name", false, &name)) {
    free(path);
    return NULL;
  }
  napi_value r = undefined(env);
  if (lsetxattr(path, name, data, size, 0) != 0) r = throw_errno(env, errno, "lsetxattr", path);
  free(path);
  free(name);
  return r;
}

static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  get_args(env, info, 2, argv);
  char *path, *name;
  if (!get_string(env, argv[0], "path", false, &path)) return NULL;
  if (!get_string(env, argv[1], "name", false, &name)) {
    free(path);
    return NULL;
  }
  napi_value r = NULL;
  char *buf = NULL;
  for (;;) {  // the value may grow between the size query and the read: retry on ERANGE
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size >= 0) {
      free(buf);
      buf = malloc(size > 0 ? (size_t)size : 1);
      size = lgetxattr(path, name, buf, (size_t)size);
    }
    if (size >= 0) {
      napi_create_buffer_copy(env, (size_t)size, buf, NULL, &r);
    } else if (errno == ERANGE) {
      continue;
    } else if (errno == ENODATA) {
      napi_get_null(env, &r);
    } else {
      r = throw_errno(env, errno, "lgetxattr", path);
    }
    break;
  }
  free(buf);
  free(path);
  free(name);
  return r;
}

static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  get_args(env, info, 1, argv);
  char *path;
  if (!get_string(env, argv[0], "path", false, &path)) return NULL;
  napi_value r = NULL;
  char *buf = NULL;
  for (;;) {
    ssize_t size = llistxattr(path, NULL, 0);
    if (size >= 0) {
      free(buf);
      buf = malloc(size > 0 ? (size_t)size : 1);
      size = llistxattr(path, buf, (size_t)size);
    }
    if (size < 0 && errno == ERANGE) continue;
    if (size < 0) {
      r = throw_errno(env, errno, "llistxattr", path);
      break;
    }
    napi_create_array(env, &r);
    uint32_t i = 0;
    for (char *p = buf; p < buf + size; p += strlen(p) + 1) {  // NUL-separated names
      napi_value s;
      napi_create_string_utf8(env, p, NAPI_AUTO_LENGTH, &s);
      napi_set_element(env, r, i++, s);
    }
    break;
  }
  free(buf);
  free(path);
  return r;
}

static napi_value js_mount(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  get_args(env, info, 5, argv);
  char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL;
  int64_t flags;
  napi_value r = NULL;
  if (get_string(env, argv[0], "source", true, &source) &&
      get_string(env, argv[1], "target", false, &target) &&
      get_string(env, argv[2], "fstype", true, &fstype) &&
      get_int64(env, argv[3], "flags", &flags) &&
      get_string(env, argv[4], "data", true, &data)) {
    // Empty fstype/data mean "none" (bind mounts, remounts), as mount(8) passes them.
    const char *fs = fstype && *fstype ? fstype : NULL;
    const char *d = data && *data ? data : NULL;
    if (mount(source, target, fs, (unsigned long)flags, d) != 0)
      r = throw_errno(env, errno, "mount", target);
    else
      r = undefined(env);
  }
  free(source);
  free(target);
  free(fstype);
  free(data);
  return r;
}

static napi_value js_umount2(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  get_args(env, info, 2, argv);
  char *target;
  int64_t flags;
  if (!get_string(env, argv[0], "target", false, &target)) return NULL;
  napi_value r = NULL;
  if (get_int64(env, argv[1], "flags", &flags)) {
    if (umount2(target, (int)flags) != 0)
      r = throw_errno(env, errno, "umount2", target);
    else
      r = undefined(env);
  }
  free(target);
  return r;
}

// A new network namespace bound at `target` (an existing file). unshare(CLONE_NEWNET) moves only
// the calling thread, so a short-lived thread of our own does it and binds its namespace before
// it ends: hakod's threads never leave their namespace, and /proc/<hakod>/ns/net (which `ip`
// uses to put veth peers on the host side) always names the host's, even while this runs.
struct netns_job {
  const char *target;
  int err;
  const char *syscall;
};

static void *netns_thread(void *arg) {
  struct netns_job *job = arg;
  if (unshare(CLONE_NEWNET) != 0) {
    job->err = errno;
    job->syscall = "unshare(CLONE_NEWNET)";
  } else if (mount("/proc/thread-self/ns/net", job->target, NULL, MS_BIND, NULL) != 0) {
    job->err = errno;
    job->syscall = "mount";
  }
  return NULL;
}

static napi_value js_new_netns(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  get_args(env, info, 1, argv);
  char *target;
  if (!get_string(env, argv[0], "target", false, &target)) return NULL;
  struct netns_job job = {.target = target, .err = 0, .syscall = NULL};
  pthread_t thread;
  int rc = pthread_create(&thread, NULL, netns_thread, &job);
  if (rc == 0) rc = pthread_join(thread, NULL);
  napi_value r;
  if (rc != 0) r = throw_errno(env, rc, "pthread_create", target);
  else if (job.err != 0) r = throw_errno(env, job.err, job.syscall, target);
  else r = undefined(env);
  free(target);
  return r;
}

static napi_value js_set_winsize(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  get_args(env, info, 3, argv);
  int64_t fd, rows, cols;
  if (!get_int64(env, argv[0], "fd", &fd) || !get_int64(env, argv[1], "rows", &rows) ||
      !get_int64(env, argv[2], "cols", &cols))
    return NULL;
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  if (ioctl((int)fd, TIOCSWINSZ, &ws) != 0) return throw_errno(env, errno, "ioctl(TIOCSWINSZ)", NULL);
  return undefined(env);
}

// ---- unix sockets --------------------------------------------------------------------------

// Fills `addr` for `path`. sun_path holds only 108 bytes, and container exec roots are often
// deeper, so a longer path is reached through its parent directory opened with O_PATH, as
// "/proc/self/fd/<dirfd>/<basename>" (what podman does for conmon's attach socket). The caller
// closes *dirfd (-1 when unused) once connect/bind is done. Returns 0 or an errno.
static int unix_addr(const char *path, struct sockaddr_un *addr, int *dirfd) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  *dirfd = -1;
  size_t len = strlen(path);
  if (len < sizeof addr->sun_path) {
    memcpy(addr->sun_path, path, len);
    return 0;
  }
  const char *slash = strrchr(path, '/');
  if (slash == NULL || slash[1] == '\0') return ENAMETOOLONG;
  char *dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
  *dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int err = errno;
  free(dir);
  if (*dirfd < 0) return err;
  int n = snprintf(addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/%s", *dirfd, slash + 1);
  if (n < 0 || (size_t)n >= sizeof addr->sun_path) {
    close(*dirfd);
    *dirfd = -1;
    return ENAMETOOLONG;
  }
  return 0;
}

static napi_value js_seqpacket_connect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  get_args(env, info, 1, argv);
  char *path;
  if (!get_string(env, argv[0], "path", false, &path)) return NULL;
  struct sockaddr_un addr;
  int dirfd, fd = -1;
  int err = unix_addr(path, &addr, &dirfd);
  const char *call = "connect";
  if (err == 0) {
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      err = errno;
      call = "socket";
    } else if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
      err = errno;
      close(fd);
    }
    if (dirfd >= 0) close(dirfd);
  }
  napi_value r = NULL;
  if (err != 0)
    throw_errno(env, err, call, path);
  else
    napi_create_int32(env, fd, &r);
  free(path);
  return r;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *path;
  int listen_fd, dirfd;  // dirfd keeps a long path reachable for the unlink at the end
  char name[sizeof(((struct sockaddr_un *)0)->sun_path)];
  int timeout_ms;
  int fd, err;
  const char *call;
} receive_fd_t;

static int receive_one_fd(int conn, int *out) {
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * 4)];
  } control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  ssize_t n;
  do n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  *out = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    int *fds = (int *)CMSG_DATA(c);
    for (int i = 0; i < count; i++) {  // keep the first, close any extras so none leak
      if (*out < 0) *out = fds[i];
      else close(fds[i]);
    }
  }
  return *out < 0 ? EBADMSG : 0;
}

static void receive_fd_execute(napi_env env, void *data) {
  (void)env;
  receive_fd_t *w = data;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int conn = -1;
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    long left = w->timeout_ms - elapsed;
    if (left <= 0) {
      w->err = ETIMEDOUT;
      w->call = "accept";
      break;
    }
    struct pollfd p = {.fd = w->listen_fd, .events = POLLIN};
    int n = poll(&p, 1, (int)left);
    if (n < 0 && errno != EINTR) {
      w->err = errno;
      w->call = "poll";
      break;
    }
    if (n <= 0) continue;
    conn = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn >= 0) break;
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
      w->err = errno;
      w->call = "accept";
      break;
    }
  }
  if (conn >= 0) {
    // The sender writes the fd right after connecting; a bounded wait keeps a stuck peer from
    // holding a thread-pool thread forever.
    struct timeval tv = {.tv_sec = w->timeout_ms / 1000, .tv_usec = (w->timeout_ms % 1000) * 1000};
    setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    w->err = receive_one_fd(conn, &w->fd);
    w->call = "recvmsg";
    close(conn);
  }
  close(w->listen_fd);
  w->listen_fd = -1;
  unlink(w->name);
}

static void receive_fd_complete(napi_env env, napi_status status, void *data) {
  receive_fd_t *w = data;
  if (status == napi_ok && w->err == 0) {
    napi_value fd;
    napi_create_int32(env, w->fd, &fd);
    napi_resolve_deferred(env, w->deferred, fd);
  } else {
    if (w->fd >= 0) close(w->fd);
    napi_reject_deferred(env, w->deferred,
                         errno_error(env, w->err ? w->err : ECANCELED, w->call, w->path));
  }
  if (w->dirfd >= 0) close(w->dirfd);
  napi_delete_async_work(env, w->work);
  free(w->path);
  free(w);
}

// The socket is bound and listening before receiveFd returns, so the caller can start the peer
// (runc --console-socket) right away; only the wait for it runs on the thread pool.
static napi_value js_receive_fd(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  get_args(env, info, 2, argv);
  char *path;
  int64_t timeout;
  if (!get_string(env, argv[0], "path", false, &path)) return NULL;
  if (!get_int64(env, argv[1], "timeoutMs", &timeout)) {
    free(path);
    return NULL;
  }
  receive_fd_t *w = calloc(1, sizeof *w);
  w->path = path;
  w->fd = -1;
  w->listen_fd = -1;
  w->timeout_ms = timeout < 0 ? 0 : timeout > INT32_MAX ? INT32_MAX : (int)timeout;
  napi_value promise;
  napi_create_promise(env, &w->deferred, &promise);

  struct sockaddr_un addr;
  w->call = "bind";
  w->err = unix_addr(path, &addr, &w->dirfd);
  if (w->err == 0) {
    memcpy(w->name, addr.sun_path, sizeof w->name);
    w->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (w->listen_fd < 0) {
      w->err = errno;
      w->call = "socket";
    } else if (bind(w->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
      w->err = errno;
    } else if (listen(w->listen_fd, 1) != 0) {
      w->err = errno;
      w->call = "listen";
      unlink(w->name);
    }
  }
  if (w->err != 0) {
    if (w->listen_fd >= 0) close(w->listen_fd);
    if (w->dirfd >= 0) close(w->dirfd);
    napi_reject_deferred(env, w->deferred, errno_error(env, w->err, w->call, path));
    free(path);
    free(w);
    return promise;
  }
  napi_value name;
  napi_create_string_utf8(env, "hako_native.receiveFd", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_create_async_work(env, NULL, name, receive_fd_execute, receive_fd_complete, w,
                               &w->work));
  CHECK(napi_queue_async_work(env, w->work));
  return promise;
}

// ---- SOCK_SEQPACKET I/O on Node's event loop -----------------------------------------------
// libuv reports a SEQPACKET fd as an UNKNOWN handle, so net.Socket refuses it; opened through a
// Pipe handle anyway, libuv takes a short read for "drained" and on hang-up drops the packets
// still queued (conmon's last output lines). So the fd is watched here with a uv_poll and every
// packet is read whole, on the main thread, and handed to JS one call per packet.

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref on_packet, on_writable;
  napi_async_context ctx;
  int fd, events;
  bool reading, want_write, eof, closed, handle_closed, finalized;
} seqpacket_t;

static void seqpacket_on_event(uv_poll_t *h, int status, int events);

static void seqpacket_update(seqpacket_t *s) {
  if (s->closed) return;
  int events = (s->reading && !s->eof ? UV_READABLE : 0) | (s->want_write ? UV_WRITABLE : 0);
  if (events == s->events) return;
  s->events = events;
  if (events)
    uv_poll_start(&s->poll, events, seqpacket_on_event);
  else
    uv_poll_stop(&s->poll);
}

static void seqpacket_handle_closed(uv_handle_t *h) {
  seqpacket_t *s = h->data;
  s->handle_closed = true;
  if (s->finalized) free(s);
}

static void seqpacket_close(seqpacket_t *s) {
  if (s->closed) return;
  s->closed = true;
  uv_close((uv_handle_t *)&s->poll, seqpacket_handle_closed);
  close(s->fd);
  napi_delete_reference(s->env, s->on_packet);
  napi_delete_reference(s->env, s->on_writable);
  napi_async_destroy(s->env, s->ctx);
}

// Calls a JS callback from a libuv callback; an exception goes to process 'uncaughtException'.
static void seqpacket_call(seqpacket_t *s, napi_ref ref, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value fn, recv, result;
  napi_get_reference_value(env, ref, &fn);
  napi_get_global(env, &recv);  // napi_make_callback wants an object as `this`
  if (napi_make_callback(env, s->ctx, recv, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
}

static void seqpacket_read_packets(seqpacket_t *s) {
  static char buf[65536];  // conmon's packets are at most 8 KiB + 1; the loop thread owns this
  for (int i = 0; i < 64 && s->reading && !s->closed; i++) {  // level-triggered: fair to others
    ssize_t n = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    // The peer closed with packets of ours unread: the kernel reports that once, before the
    // packets still queued for us (seqpacket_on_event); read those, then the hang-up.
    if (n < 0 && errno == ECONNRESET) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    napi_handle_scope scope;
    napi_open_handle_scope(s->env, &scope);
    napi_value argv[2];
    napi_get_null(s->env, &argv[0]);
    napi_get_null(s->env, &argv[1]);
    if (n > 0) {
      napi_create_buffer_copy(s->env, (size_t)n, buf, NULL, &argv[0]);
    } else {  // 0 is the peer's orderly close; an error ends the stream too
      if (n < 0) argv[1] = errno_error(s->env, errno, "recv", NULL);
      s->eof = true;
      seqpacket_update(s);
    }
    seqpacket_call(s, s->on_packet, 2, argv);
    napi_close_handle_scope(s->env, scope);
    if (n <= 0) return;
  }
}

static void seqpacket_on_event(uv_poll_t *h, int status, int events) {
  seqpacket_t *s = h->data;
  if (status == UV_EBADF && !s->closed) {
    // libuv turns POLLERR into UV_EBADF and stops the watcher. On a unix socket POLLERR is a
    // pending socket error: ECONNRESET when the peer (conmon, at its exit) closed with packets
    // of ours unread. The packets it sent before are still queued for us, and must not be lost
    // (the container's last output lines): take the error (SO_ERROR clears it) and read on as
    // at a hang-up. Any other error, or a really bad fd, ends the stream below.
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && (err == 0 || err == ECONNRESET)) {
      s->events = 0;  // libuv stopped the watcher: let seqpacket_update start it again
      seqpacket_update(s);
      if (s->reading && !s->eof) seqpacket_read_packets(s);
      if (s->want_write && !s->closed) {  // the next send reports EPIPE to the writer
        s->want_write = false;
        seqpacket_update(s);
        napi_handle_scope scope;
        napi_open_handle_scope(s->env, &scope);
        seqpacket_call(s, s->on_writable, 0, NULL);
        napi_close_handle_scope(s->env, scope);
      }
      return;
    }
    if (err != 0) status = -err;
  }
  if (status < 0 && !s->closed) {  // e.g. EBADF: report it as the end of the stream
    s->events = 0;  // libuv stopped the watcher
    s->eof = true;
    s->want_write = false;
    seqpacket_update(s);
    napi_handle_scope scope;
    napi_open_handle_scope(s->env, &scope);
    napi_value argv[2];
    napi_get_null(s->env, &argv[0]);
    argv[1] = errno_error(s->env, -status, "poll", NULL);
    seqpacket_call(s, s->on_packet, 2, argv);
    napi_close_handle_scope(s->env, scope);
    return;
  }
  if ((events & UV_READABLE) && !s->closed) seqpacket_read_packets(s);
  if ((events & UV_WRITABLE) && s->want_write && !s->closed) {
    s->want_write = false;
    seqpacket_update(s);
    napi_handle_scope scope;
    napi_open_handle_scope(s->env, &scope);
    seqpacket_call(s, s->on_writable, 0, NULL);
    napi_close_handle_scope(s->env, scope);
  }
}

static void seqpacket_finalize(napi_env env, void *data, void *hint) {
  seqpacket_t *s = data;
  s->finalized = true;
  if (!s->closed) seqpacket_close(s);
  else if (s->handle_closed) free(s);
}

static seqpacket_t *seqpacket_this(napi_env env, napi_callback_info info, size_t *argc,
                                   napi_value *argv) {
  napi_value self;
  void *data = NULL;
  napi_get_cb_info(env, info, argc, argv, &self, NULL);
  if (napi_unwrap(env, self, &data) != napi_ok) return NULL;
  return data;
}

static napi_value js_seqpacket_send(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  seqpacket_t *s = seqpacket_this(env, info, &argc, argv);
  void *data;
  size_t size;
  bool is_buffer = false;
  if (s == NULL || argc < 1 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "send takes a Buffer");
    return NULL;
  }
  if (s->closed) return throw_errno(env, EBADF, "send", NULL);
  napi_get_buffer_info(env, argv[0], &data, &size);
  ssize_t n;
  do n = send(s->fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    s->want_write = true;  // onWritable runs when the peer has room again
    seqpacket_update(s);
    n = -1;
  } else if (n < 0) {
    return throw_errno(env, errno, "send", NULL);
  }
  napi_value r;
  napi_create_int64(env, n, &r);
  return r;
}

static napi_value seqpacket_set_reading(napi_env env, napi_callback_info info, bool reading) {
  size_t argc = 0;
  seqpacket_t *s = seqpacket_this(env, info, &argc, NULL);
  if (s != NULL) {
    s->reading = reading;
    seqpacket_update(s);
  }
  return undefined(env);
}
static napi_value js_seqpacket_pause(napi_env env, napi_callback_info info) {
  return seqpacket_set_reading(env, info, false);
}
static napi_value js_seqpacket_resume(napi_env env, napi_callback_info info) {
  return seqpacket_set_reading(env, info, true);
}
static napi_value js_seqpacket_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  seqpacket_t *s = seqpacket_this(env, info, &argc, NULL);
  if (s != NULL) seqpacket_close(s);
  return undefined(env);
}

// seqpacketWatch(fd, onPacket(packet|null, error|null), onWritable()) -> {send, pause, resume,
// close}. Takes ownership of fd: close() closes it. Starts paused.
static napi_value js_seqpacket_watch(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  get_args(env, info, 3, argv);
  int64_t fd;
  if (!get_int64(env, argv[0], "fd", &fd)) return NULL;
  napi_valuetype t1, t2;
  napi_typeof(env, argv[1], &t1);
  napi_typeof(env, argv[2], &t2);
  if (t1 != napi_function || t2 != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "onPacket and onWritable must be functions");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  seqpacket_t *s = calloc(1, sizeof *s);
  s->env = env;
  s->fd = (int)fd;
  int rc = uv_poll_init(loop, &s->poll, s->fd);
  if (rc != 0) {
    free(s);
    return throw_errno(env, -rc, "uv_poll_init", NULL);
  }
  s->poll.data = s;
  napi_value obj, name;
  napi_create_object(env, &obj);
  napi_create_reference(env, argv[1], 1, &s->on_packet);
  napi_create_reference(env, argv[2], 1, &s->on_writable);
  napi_create_string_utf8(env, "hako_native.seqpacket", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, obj, name, &s->ctx);
  napi_property_descriptor methods[] = {
      {"send", NULL, js_seqpacket_send, NULL, NULL, NULL, napi_default, NULL},
      {"pause", NULL, js_seqpacket_pause, NULL, NULL, NULL, napi_default, NULL},
      {"resume", NULL, js_seqpacket_resume, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_seqpacket_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, obj, 4, methods);
  napi_wrap(env, obj, s, seqpacket_finalize, NULL, NULL);
  return obj;
}

// shutdownWrite(fd): half-closes a socket (shutdown SHUT_WR). conmon reads the EOF on its attach
// socket as "stdin ended" and closes the container's stdin, while output keeps coming.
static napi_value js_shutdown_write(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  get_args(env, info, 1, argv);
  int64_t fd;
  if (!get_int64(env, argv[0], "fd", &fd)) return NULL;
  if (shutdown((int)fd, SHUT_WR) != 0 && errno != ENOTCONN) return throw_errno(env, errno, "shutdown", NULL);
  return undefined(env);
}

// ---- idmapped mounts ------------------------------------------------------------------------
// idmapMount(source, target, usernsFd): clones the mount at `source` (open_tree), gives the clone
// the id mapping of the user namespace `usernsFd` (mount_setattr MOUNT_ATTR_IDMAP) and attaches it
// at `target` (move_mount). hakod's userns-remap shows image layers through such mounts, so files
// owned by 0 in a layer appear owned by the remapped root without copying the layer
// (overlayfs accepts idmapped lower layers since Linux 5.19).
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
struct hako_mount_attr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

static napi_value js_idmap_mount(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  get_args(env, info, 3, argv);
  char *source = NULL, *target = NULL;
  int64_t userns;
  napi_value r = NULL;
  if (get_string(env, argv[0], "source", false, &source) &&
      get_string(env, argv[1], "target", false, &target) &&
      get_int64(env, argv[2], "usernsFd", &userns)) {
    int fd = (int)syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | O_CLOEXEC);
    if (fd < 0) {
      r = throw_errno(env, errno, "open_tree", source);
    } else {
      struct hako_mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
      if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
        r = throw_errno(env, errno, "mount_setattr", source);
      else if (syscall(SYS_move_mount, fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0)
        r = throw_errno(env, errno, "move_mount", target);
      else
        r = undefined(env);
      close(fd);
    }
  }
  free(source);
  free(target);
  return r;
}

// ---- rtnetlink ------------------------------------------------------------------------------

// A NETLINK_ROUTE socket talks to the network namespace it was created in, for its whole life. So
// a socket for a container's namespace is made by a short-lived thread that setns()es into it
// (as for newNetns, no thread of hakod ever leaves the host's namespace). Messages are built and
// parsed in TypeScript (src/network/netlink.ts); the C only moves bytes and matches the acks.
struct nl_job {
  const char *ns;
  int fd;
  int err;
  const char *syscall;
};

static void nl_socket(struct nl_job *job) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    job->err = errno;
    job->syscall = "socket(AF_NETLINK)";
    return;
  }
  int one = 1;
  // Errors carry the kernel's text (extended ack) and not a copy of the failed request (capped).
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  // The kernel answers a request with NLM_F_ACK at once; a bound on the wait all the same.
  struct timeval tv = {.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    job->err = errno;
    job->syscall = "bind(AF_NETLINK)";
    close(fd);
    return;
  }
  job->fd = fd;
}

static void *nl_thread(void *arg) {
  struct nl_job *job = arg;
  int ns = open(job->ns, O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    job->err = errno;
    job->syscall = "open";
    return NULL;
  }
  if (setns(ns, CLONE_NEWNET) != 0) {
    job->err = errno;
    job->syscall = "setns(CLONE_NEWNET)";
  } else {
    nl_socket(job);
  }
  close(ns);
  return NULL;
}

static napi_value js_netlink_open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  get_args(env, info, 1, argv);
  char *ns;
  if (!get_string(env, argv[0], "nsPath", true, &ns)) return NULL;
  struct nl_job job = {.ns = ns, .fd = -1, .err = 0, .syscall = NULL};
  int rc = 0;
  if (ns == NULL) {
    nl_socket(&job);
  } else {
    pthread_t thread;
    rc = pthread_create(&thread, NULL, nl_thread, &job);
    if (rc == 0) rc = pthread_join(thread, NULL);
  }
  napi_value r;
  if (rc != 0) r = throw_errno(env, rc, "pthread_create", ns);
  else if (job.err != 0) r = throw_errno(env, job.err, job.syscall, ns);
  else napi_create_int32(env, job.fd, &r);
  free(ns);
  return r;
}

#define NL_MAX_BATCH 64

static napi_value js_netlink_talk(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  get_args(env, info, 2, argv);
  int64_t fd;
  if (!get_int64(env, argv[0], "fd", &fd)) return NULL;
  void *req;
  size_t len;
  if (napi_get_buffer_info(env, argv[1], &req, &len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "request must be a Buffer");
    return NULL;
  }
  // The sequence numbers to wait for, one per message of the batch.
  uint32_t seqs[NL_MAX_BATCH];
  bool answered[NL_MAX_BATCH];
  int n = 0;
  // Every message aligned: NLMSG_NEXT would otherwise step past the end of the buffer.
  if (len % NLMSG_ALIGNTO != 0) {
    napi_throw_range_error(env, "ERR_INVALID_ARG_VALUE", "netlinkTalk: the request is not a whole number of netlink messages");
    return NULL;
  }
  for (struct nlmsghdr *h = req; NLMSG_OK(h, (unsigned)len); h = NLMSG_NEXT(h, len)) {
    if (n == NL_MAX_BATCH || !(h->nlmsg_flags & NLM_F_ACK)) {
      napi_throw_range_error(env, "ERR_INVALID_ARG_VALUE", "netlinkTalk: at most 64 messages, each with NLM_F_ACK");
      return NULL;
    }
    seqs[n] = h->nlmsg_seq;
    answered[n++] = false;
  }
  if (n == 0 || len != 0) {
    napi_throw_range_error(env, "ERR_INVALID_ARG_VALUE", "netlinkTalk: the request is not a whole number of netlink messages");
    return NULL;
  }
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  napi_get_buffer_info(env, argv[1], &req, &len);  // the walk above consumed `len`
  ssize_t sent;
  do sent = sendto((int)fd, req, len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) return throw_errno(env, errno, "sendto(AF_NETLINK)", NULL);

  napi_value replies;
  napi_create_array(env, &replies);
  uint32_t nreplies = 0;
  int left = n, first_err = 0, failed = -1;
  char extack[256] = "";
  const size_t bufsize = 65536;  // more than any answer to these requests (a link is ~1.5 KiB)
  char *buf = malloc(bufsize);
  if (buf == NULL) return throw_errno(env, ENOMEM, "netlinkTalk", NULL);
  while (left > 0) {
    ssize_t got = recv((int)fd, buf, bufsize, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      int err = errno == EAGAIN ? ETIMEDOUT : errno;
      free(buf);
      return throw_errno(env, err, "recv(AF_NETLINK)", NULL);
    }
    size_t rest = (size_t)got;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)rest); h = NLMSG_NEXT(h, rest)) {
      int i = 0;
      while (i < n && seqs[i] != h->nlmsg_seq) i++;
      if (i == n) continue;  // an answer to an earlier, abandoned request
      if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) {
        if (!answered[i]) {
          answered[i] = true;
          left--;
        }
        if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) continue;
        struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error == 0 || first_err != 0) continue;
        first_err = -e->error;
        failed = i;
        // Extended ack TLVs follow the (capped) copy of the request's header.
        if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
          size_t off = NLMSG_LENGTH(sizeof *e);
          if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
          while (off + sizeof(struct nlattr) <= h->nlmsg_len) {
            struct nlattr *a = (struct nlattr *)((char *)h + off);
            if (a->nla_len < sizeof *a || off + a->nla_len > h->nlmsg_len) break;
            if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG)
              snprintf(extack, sizeof extack, "%.*s", (int)(a->nla_len - sizeof *a), (char *)(a + 1));
            off += NLA_ALIGN(a->nla_len);
          }
        }
      } else {
        void *copy;
        napi_value b;
        napi_create_buffer_copy(env, h->nlmsg_len, h, &copy, &b);
        napi_set_element(env, replies, nreplies++, b);
      }
    }
  }
  free(buf);
  if (first_err != 0) {
    char what[64];
    snprintf(what, sizeof what, "netlink message %d of %d", failed + 1, n);
    napi_value err = errno_error(env, first_err, what, NULL), index_v, extack_v;
    napi_create_int32(env, failed, &index_v);
    napi_set_named_property(env, err, "index", index_v);
    napi_create_string_utf8(env, extack, NAPI_AUTO_LENGTH, &extack_v);
    napi_set_named_property(env, err, "extack", extack_v);
    napi_throw(env, err);
    return NULL;
  }
  return replies;
}

// ---- module --------------------------------------------------------------------------------

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lgetxattr", NULL, js_lgetxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"llistxattr", NULL, js_llistxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setWinsize", NULL, js_set_winsize, NULL, NULL, NULL, napi_enumerable, NULL},
      {"newNetns", NULL, js_new_netns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"seqpacketConnect", NULL, js_seqpacket_connect, NULL, NULL, NULL, napi_enumerable, NULL},
      {"receiveFd", NULL, js_receive_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"seqpacketWatch", NULL, js_seqpacket_watch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"shutdownWrite", NULL, js_shutdown_write, NULL, NULL, NULL, napi_enumerable, NULL},
      {"idmapMount", NULL, js_idmap_mount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"netlinkOpen", NULL, js_netlink_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"netlinkTalk", NULL, js_netlink_talk, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
    return NULL;
#ifdef HAKO_HAVE_NFTABLES
  if (hako_nft_register(env, exports) != napi_ok) return NULL;
#endif
  return exports;
}
