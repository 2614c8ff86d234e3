/*-------------------------------------------------------------------------
 *
 * src/http/body_csv.c
 *	  A text/csv request body as the JSON array of objects PostgREST makes
 *	  of it (ApiRequest/Payload.hs, csvToJson): the first line names the
 *	  columns, every later line is one object of strings, an unquoted NULL
 *	  is null and an empty field the empty string.  "..." quotes a field,
 *	  with "" for a quote inside; lines end in \n or \r\n.  Pure C, called
 *	  by body.c, which then reads the JSON as any other body.
 *
 *	  The body must be UTF-8 without NUL (the values become JSON strings,
 *	  then text in PostgreSQL).  A line with another number of fields than
 *	  the first is PostgREST's "All lines must have same number of fields";
 *	  anything else that is not CSV is "Empty or invalid CSV".
 *
 *-------------------------------------------------------------------------
 */
#include "http/body_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const INVALID_CSV = "Empty or invalid CSV";
static const char *const FIELDS_DIFFER = "All lines must have same number of fields";

char *
http_body_csv_to_json(const char *b, size_t len, size_t *json_len, const char **why)
{
	HttpBodyBuf out = {0};
	HttpBodyBuf f = {0};
	HttpBodyBuf *header = NULL;
	size_t		nheader = 0;
	size_t		i = 0;
	size_t		field = 0;
	bool		first = true;
	bool		any_row = false;

	*why = INVALID_CSV;
	if (len == 0 || memchr(b, '\0', len) != NULL ||
		!http_body_utf8_valid((const unsigned char *) b, len))
		return NULL;
	http_body_buf_add(&out, "[", 1);
	http_body_buf_add(&f, "", 0);
	while (i <= len)
	{
		bool		quoted = false;
		bool		end_of_line;

		f.len = 0;
		f.data[0] = '\0';
		if (i < len && b[i] == '"')
		{
			quoted = true;
			for (i++; i < len; i++)
			{
				if (b[i] == '"' && i + 1 < len && b[i + 1] == '"')
					http_body_buf_add(&f, b + i++, 1);
				else if (b[i] == '"')
					break;
				else
					http_body_buf_add(&f, b + i, 1);
			}
			if (i >= len)
				goto bad;		/* no closing quote */
			i++;
		}
		else
			for (; i < len && b[i] != ',' && b[i] != '\n' && b[i] != '\r'; i++)
				http_body_buf_add(&f, b + i, 1);
		if (i < len && b[i] == '\r')
			i++;
		end_of_line = i >= len || b[i] == '\n';
		if (i < len && b[i] != ',' && b[i] != '\n')
			goto bad;			/* text after a closing quote, or a lone \r */
		i++;
		if (first)
		{
			header = realloc(header, sizeof(HttpBodyBuf) * (nheader + 1));
			if (header == NULL)
				abort();
			memset(&header[nheader], 0, sizeof(HttpBodyBuf));
			http_body_buf_add(&header[nheader++], f.data, f.len);
		}
		else
		{
			if (field >= nheader)
				goto differ;
			http_body_buf_add(&out, field > 0 ? "," : any_row ? ",{" : "{", field > 0 || !any_row ? 1 : 2);
			http_body_buf_json_string(&out, header[field].data, header[field].len);
			http_body_buf_add(&out, ":", 1);
			if (!quoted && strcmp(f.data, "NULL") == 0)
				http_body_buf_add(&out, "null", 4);
			else
				http_body_buf_json_string(&out, f.data, f.len);
		}
		field++;
		if (end_of_line)
		{
			if (!first)
			{
				if (field != nheader)
					goto differ;
				http_body_buf_add(&out, "}", 1);
				any_row = true;
			}
			first = false;
			field = 0;
			if (i >= len)
				break;
		}
	}
	http_body_buf_add(&out, "]", 1);
	for (size_t h = 0; h < nheader; h++)
		free(header[h].data);
	free(header);
	free(f.data);
	*why = NULL;
	*json_len = out.len;
	return out.data;
differ:
	*why = FIELDS_DIFFER;
bad:
	for (size_t h = 0; h < nheader; h++)
		free(header[h].data);
	free(header);
	free(f.data);
	free(out.data);
	return NULL;
}
