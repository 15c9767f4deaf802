/* guest/mini/blk.c - test=blk and test=load (phase 2, not written yet). */
#include "mini.h"

void blk_run(const struct mini_args *a)
{
	(void)a;
	fail(ST_BAD_ARG, "test=blk/load not in this build yet");
}
