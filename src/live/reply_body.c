/*-------------------------------------------------------------------------
 *
 * src/live/reply_body.c
 *	  libcurl's write callback for the live part's REST replies: the body
 *	  appended to a StringInfo, the transfer failed (CURLE_WRITE_ERROR)
 *	  once it would pass the caller's limit, so that a runaway reply
 *	  cannot fill the worker's memory.  The caller resets the buffer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "live/reply_body.h"

static size_t
reply_body_write(char *data, size_t size, size_t n, void *arg)
{
	ReplyBody  *rb = (ReplyBody *) arg;

	if (rb->buf->len + size * n > rb->limit)
		return 0;				/* cut: curl fails the transfer */
	appendBinaryStringInfo(rb->buf, data, size * n);
	return size * n;
}

/* h's reply body into buf (through rb, which must outlive the transfer), at most limit bytes */
void
reply_body_attach(CURL *h, ReplyBody *rb, StringInfo buf, size_t limit)
{
	rb->buf = buf;
	rb->limit = limit;
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reply_body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, rb);
}
