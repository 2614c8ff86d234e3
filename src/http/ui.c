/*-------------------------------------------------------------------------
 *
 * src/http/ui.c
 *	  The dashboard's static files at /ui/ (zvt.http_ui, docs/dashboard.md):
 *	  read once from zvt.http_ui_dir into memory, served from there.
 *
 * At start and on every reload each HTTP worker reads the directory
 * (default $sharedir/extension/zvt/ui, where `make install` puts ui/dist)
 * into a table of files: only regular files directly inside it whose
 * names are [A-Za-z0-9_.-]+ and do not start with a dot, opened with
 * O_NOFOLLOW (a symbolic link is skipped, never followed), at most
 * UI_MAX_FILES of at most UI_MAX_FILE bytes each.  Each file keeps its
 * content type (from its extension; an unknown extension is skipped),
 * an ETag (a 64-bit hash of its bytes) and, for text types, a gzip copy
 * made with zlib when it is smaller.
 *
 * A request never reaches the file system: its path is compared byte for
 * byte with the names in the table ("/ui/" is index.html), so "..",
 * escapes (lws decodes them before; the re-encoded path has a '/' or a
 * '%' no name has), NUL bytes and long paths simply name no file (404).
 * Responses carry a strict Content-Security-Policy (scripts, styles and
 * connections to this origin only: no inline script, no CDN), nosniff,
 * no framing, Cache-Control "no-cache" (revalidate: 304 on a matching
 * If-None-Match) and gzip when the client accepts it.  Only GET and HEAD
 * (405 otherwise); no database access, no transaction.
 *
 * Memory: the table is malloc'd for the process (it outlives every
 * memory context reset of the worker loop) and replaced whole on reload.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "miscadmin.h"

#include "http/transport.h"
#include "zvt.h"

/* the most files the directory may hold, and the largest one, bytes */
#define UI_MAX_FILES 64
#define UI_MAX_FILE (8 * 1024 * 1024)
#define UI_MAX_NAME 64

#define UI_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; " \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

typedef struct UiFile
{
	char		name[UI_MAX_NAME + 1];	/* "app.js" */
	const char *type;			/* static string: Content-Type */
	char		etag[24];		/* "\"<16 hex>\"" */
	char	   *data;			/* malloc'd */
	size_t		len;
	char	   *gz;				/* malloc'd gzip of data; NULL when none */
	size_t		gz_len;
} UiFile;

static UiFile ui_files[UI_MAX_FILES];
static int	ui_nfiles = 0;

static const struct
{
	const char *ext;
	const char *type;
	bool		text;			/* worth gzip */
}			ui_types[] = {
	{".html", "text/html; charset=utf-8", true},
	{".js", "text/javascript; charset=utf-8", true},
	{".css", "text/css; charset=utf-8", true},
	{".svg", "image/svg+xml", true},
	{".json", "application/json", true},
	{".map", "application/json", true},
	{".png", "image/png", false},
	{".ico", "image/x-icon", false},
	{".woff2", "font/woff2", false},
	{".txt", "text/plain; charset=utf-8", true},
};

static void
ui_free(void)
{
	for (int i = 0; i < ui_nfiles; i++)
	{
		free(ui_files[i].data);
		free(ui_files[i].gz);
	}
	memset(ui_files, 0, sizeof(ui_files));
	ui_nfiles = 0;
}

/* Whether name may be served: [A-Za-z0-9_.-]+, no leading dot. */
static bool
ui_name_ok(const char *name)
{
	size_t		n = strlen(name);

	if (n == 0 || n > UI_MAX_NAME || name[0] == '.')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* The index of name's type in ui_types, or -1. */
static int
ui_type_of(const char *name)
{
	size_t		n = strlen(name);

	for (int i = 0; i < lengthof(ui_types); i++)
	{
		size_t		e = strlen(ui_types[i].ext);

		if (n > e && strcmp(name + n - e, ui_types[i].ext) == 0)
			return i;
	}
	return -1;
}

/* A gzip copy of f->data in f->gz when it is smaller. */
static void
ui_gzip(UiFile *f)
{
	z_stream	z;
	uLong		cap = compressBound(f->len) + 32;
	char	   *out = malloc(cap);

	if (out == NULL)
		return;
	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header and trailer */
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
	{
		free(out);
		return;
	}
	z.next_in = (Bytef *) f->data;
	z.avail_in = f->len;
	z.next_out = (Bytef *) out;
	z.avail_out = cap;
	if (deflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out < f->len)
	{
		f->gz = out;
		f->gz_len = z.total_out;
	}
	else
		free(out);
	deflateEnd(&z);
}

/* Read one directory entry into the next slot; false (logged) when skipped. */
static bool
ui_read_file(const char *dir, const char *name)
{
	UiFile	   *f = &ui_files[ui_nfiles];
	char		path[MAXPGPATH];
	struct stat st;
	int			type = ui_type_of(name);
	int			fd;
	size_t		got = 0;
	uint64		h = UINT64CONST(14695981039346656037);

	if (!ui_name_ok(name) || type < 0)
		return false;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* O_NOFOLLOW: a symbolic link fails here and is never served */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > UI_MAX_FILE)
	{
		close(fd);
		return false;
	}
	f->data = malloc(st.st_size + 1);
	if (f->data == NULL)
	{
		close(fd);
		return false;
	}
	while (got < (size_t) st.st_size)
	{
		ssize_t		n = read(fd, f->data + got, st.st_size - got);

		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	f->len = got;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->type = ui_types[type].type;
	/* FNV-1a: an ETag changes whenever the bytes do */
	for (size_t i = 0; i < got; i++)
		h = (h ^ (unsigned char) f->data[i]) * UINT64CONST(1099511628211);
	snprintf(f->etag, sizeof(f->etag), "\"%016llx\"", (unsigned long long) h);
	if (ui_types[type].text)
		ui_gzip(f);
	ui_nfiles++;
	return true;
}

/*
 * (Re)read zvt.http_ui_dir (or the default) into the table; with
 * zvt.http_ui off the table stays empty.  Logs what it serves.
 */
void
http_ui_load(void)
{
	char		dir[MAXPGPATH];
	DIR		   *d;
	struct dirent *de;

	ui_free();
	if (!zvt_http_ui)
		return;
	if (zvt_http_ui_dir && zvt_http_ui_dir[0])
		snprintf(dir, sizeof(dir), "%s", zvt_http_ui_dir);
	else
	{
		char		share[MAXPGPATH];

		get_share_path(my_exec_path, share);
		snprintf(dir, sizeof(dir), "%s/extension/zvt/ui", share);
	}
	d = opendir(dir);
	if (d == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("zvt http worker %d could not open the dashboard directory \"%s\": %m",
						http_worker_number, dir),
				 errhint("Run make install, or set zvt.http_ui_dir or zvt.http_ui = off.")));
		return;
	}
	while ((de = readdir(d)) != NULL && ui_nfiles < UI_MAX_FILES)
		(void) ui_read_file(dir, de->d_name);
	closedir(d);
	ereport(DEBUG1, (errmsg_internal("zvt http worker %d serves %d dashboard files from \"%s\"",
									 http_worker_number, ui_nfiles, dir)));
}

/* Whether path (as the transport re-encoded it) is the dashboard's. */
static bool
http_ui_wants(const char *path)
{
	return zvt_http_ui && strncmp(path, "/ui", 3) == 0 &&
		(path[3] == '\0' || path[3] == '/');
}

/* Whether the comma-separated header value lists token (case-insensitive). */
static bool
header_lists(const char *value, const char *token)
{
	size_t		n = strlen(token);

	for (const char *p = value; p && *p;)
	{
		p += strspn(p, " \t,");
		if (pg_strncasecmp(p, token, n) == 0 && strchr(" \t,;", p[n]) != NULL)
		{
			const char *q = strstr(p + n, "q=");
			const char *comma = strchr(p + n, ',');

			/* "gzip;q=0" refuses it */
			return q == NULL || (comma && q > comma) || strtod(q + 2, NULL) > 0;
		}
		p = strchr(p, ',');
	}
	return false;
}

/* Fill resp for a request http_ui_wants; the caller sends it. */
static void
http_ui_serve(const HttpRequest *req, HttpResponse *resp)
{
	const char *name = req->path + 3;
	const UiFile *f = NULL;
	const char *inm = http_request_header(req, "if-none-match");
	const char *ae = http_request_header(req, "accept-encoding");
	bool		gz;

	http_response_header(resp, "Content-Security-Policy", UI_CSP, true);
	http_response_header(resp, "X-Content-Type-Options", "nosniff", true);
	http_response_header(resp, "X-Frame-Options", "DENY", true);
	http_response_header(resp, "Referrer-Policy", "no-referrer", true);
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
	{
		http_response_header(resp, "Allow", "GET, HEAD", true);
		http_response_error(resp, 405, NULL, "method not allowed", NULL, NULL);
		return;
	}
	if (*name == '\0')
	{
		resp->status = 301;
		http_response_header(resp, "Location", "/ui/", true);
		return;
	}
	name++;						/* past the '/' */
	if (*name == '\0')
		name = "index.html";
	for (int i = 0; i < ui_nfiles; i++)
		if (strcmp(ui_files[i].name, name) == 0)
			f = &ui_files[i];
	if (f == NULL)
	{
		http_response_error(resp, 404, NULL, "not found", NULL,
							ui_nfiles ? NULL : "The dashboard's files are not installed.");
		return;
	}
	http_response_header(resp, "ETag", f->etag, true);
	http_response_header(resp, "Cache-Control", "no-cache", true);
	http_response_header(resp, "Vary", "Accept-Encoding", true);
	if (inm && (strstr(inm, f->etag) != NULL || strcmp(inm, "*") == 0))
	{
		resp->status = 304;
		return;
	}
	resp->status = 200;
	http_response_header(resp, "Content-Type", f->type, true);
	gz = f->gz && ae && header_lists(ae, "gzip");
	if (gz)
	{
		http_response_header(resp, "Content-Encoding", "gzip", true);
		http_response_body(resp, f->gz, f->gz_len);
	}
	else
		http_response_body(resp, f->data, f->len);
}

/*
 * Serve req when its path is the dashboard's (filling resp and logging
 * it, with no token read and no transaction) and return true; false
 * leaves the request to the API (run.c).
 */
bool
http_ui_route(const HttpRequest *req, HttpResponse *resp, const HttpContext *cx)
{
	if (!http_ui_wants(req->path))
		return false;
	http_ui_serve(req, resp);
	http_access_log(req, cx, resp);
	return true;
}
