/*
 * test/unit/test_hex.c
 *	  hex_digit_value (src/core/hex.h) for every byte: the sixteen digits
 *	  of either case and nothing else, checked against strtol.
 */
#include <stdlib.h>

#include "core/hex.h"
#include "unit_test.h"

int
main(void)
{
	int			digits = 0;

	for (int c = -128; c < 256; c++)
	{
		char		s[2] = {(char) c, '\0'};
		char	   *end;
		long		want = strtol(s, &end, 16);
		int			is_digit = c > 0 && c < 128 && end == s + 1 && s[0] != '+' && s[0] != '-';

		if (is_digit)
		{
			digits++;
			CHECK(hex_digit_value(c) == want);
		}
		else
			CHECK(hex_digit_value(c) == -1);
	}
	CHECK(digits == 22);		/* 0-9, a-f, A-F */
	CHECK(hex_digit_value('f') == 15 && hex_digit_value('F') == 15 && hex_digit_value('0') == 0);
	return unit_summary("hex");
}
