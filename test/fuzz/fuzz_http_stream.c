/*
 * test/fuzz/fuzz_http_stream.c
 *	  libFuzzer harness for the /stream WebSocket's client messages
 *	  (src/http/stream_proto.c).  The input is one client message.  Any
 *	  crash, leak, out-of-bounds read or undefined behaviour is a
 *	  failure, and so is a refusal without a message, a command with a
 *	  channel or symbol that is not valid, or an acknowledgement that is
 *	  not one JSON object.
 */
#include "http/stream_proto.h"

#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static StreamCommand cmd;
	char		err[128];
	char		detail[256];
	StreamBuf	b;

	if (!stream_parse_command((const char *) data, size, &cmd, err, sizeof(err), detail, sizeof(detail)))
	{
		if (err[0] == '\0')
			abort();
		return 0;
	}
	if (cmd.op == STREAM_OP_PING)
		return 0;
	if (cmd.nchannels < 1 || cmd.nchannels > STREAM_MAX_LIST || cmd.nsymbols > STREAM_MAX_LIST)
		abort();
	for (int i = 0; i < cmd.nchannels; i++)
	{
		char		name[32];
		StreamChannel again;

		if (!stream_parse_channel(stream_channel_name(&cmd.channels[i], name, sizeof(name)), &again) ||
			again.kind != cmd.channels[i].kind || again.interval_s != cmd.channels[i].interval_s)
			abort();
	}
	for (int i = 0; i < cmd.nsymbols; i++)
	{
		char		e[STREAM_SYMBOL_MAX];
		char		s[STREAM_SYMBOL_MAX];

		if (strcmp(cmd.symbols[i], "*") != 0 &&
			!stream_split_symbol(cmd.symbols[i], e, sizeof(e), s, sizeof(s)))
			abort();
	}
	stream_buf_init(&b, 16);
	stream_write_ack(&b, &cmd);
	if (stream_buf_text(&b)[0] != '{' || stream_buf_text(&b)[b.len - 1] != '}')
		abort();
	stream_buf_free(&b);
	return 0;
}
