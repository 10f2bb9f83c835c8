/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state file: what a restarted daemon learns of the blocks it owns. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memblock.h"
#include "runstate.h"
#include "testutil.h"
#include "util.h"

#define BOOT "7402e539-fa05-4caa-9a30-ed0e3c4d8de5"

static void test_parse(void)
{
        RunState s = { 0 };
        unsigned line = 0;

        CHECK_EQ_INT(runstate_parse("# comment\n\nboot-id " BOOT "\noffline 35 Movable\n"
                                    "  offline 4 Normal  # trailing comment\noffline 40 -\n"
                                    "future-keyword 1 2 3 4 5 6\n",
                                    &s, &line),
                     0);
        CHECK_EQ_STR(s.boot_id, BOOT);
        CHECK_EQ_INT(s.n_blocks, 3);
        CHECK_EQ_INT(s.blocks[0].index, 35);
        CHECK_EQ_INT(s.blocks[0].zones, ZONE_MOVABLE_BIT);
        CHECK_EQ_INT(s.blocks[1].zones, ZONE_NORMAL_BIT);
        CHECK_EQ_INT(s.blocks[2].index, 40);
        CHECK_EQ_INT(s.blocks[2].zones, 0);
        runstate_free(&s);

        /* a block listed twice is one block */
        CHECK_EQ_INT(runstate_parse("offline 35 Movable\noffline 35 Normal\n", &s, NULL), 0);
        CHECK_EQ_INT(s.n_blocks, 1);
        CHECK_EQ_INT(s.blocks[0].zones, ZONE_NORMAL_BIT);
        runstate_free(&s);

        CHECK_EQ_INT(runstate_parse("", &s, NULL), 0);
        CHECK_EQ_INT(s.n_blocks, 0);
        CHECK_EQ_STR(s.boot_id, "");
        runstate_free(&s);

        /* malformed lines of our keywords: the whole file, with the line */
        static const struct {
                const char *text;
                unsigned line;
        } bad[] = {
                { "offline\n", 1 },
                { "offline 35\n", 1 },
                { "offline x Movable\n", 1 },
                { "offline -1 Movable\n", 1 },
                { "offline 4294967296 Movable\n", 1 },
                { "offline 35 Movable extra\n", 1 },
                { "\noffline 35 Banana\n", 2 },
                { "offline 35 Movable,Normal\n", 1 },
                { "offline 35 none\n", 1 },
                { "boot-id\n", 1 },
                { "boot-id 12345\n", 1 },
                { "boot-id " BOOT " x\n", 1 },
                { "boot-id 7402E539-fa05-4caa-9a30-ed0e3c4d8de5\n", 1 },
                { "offline 35 Movablexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", 1 },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                s.n_blocks = 99;
                line = 0;
                CHECK_EQ_INT(runstate_parse(bad[i].text, &s, &line), -EBADMSG);
                CHECK_EQ_INT(line, bad[i].line);
                CHECK_EQ_INT(s.n_blocks, 99); /* untouched */
        }
        s = (RunState){ 0 };
}

static void test_roundtrip(void)
{
        RunState s = { 0 }, t = { 0 };
        _cleanup_free_ char *text = NULL;
        char *dir = tmpdir_make();
        int fd = open(dir, O_RDONLY | O_DIRECTORY);

        snprintf(s.boot_id, sizeof(s.boot_id), "%s", BOOT);
        CHECK_EQ_INT(runstate_add(&s, 35, ZONE_MOVABLE_BIT), 0);
        CHECK_EQ_INT(runstate_add(&s, 4, ZONE_NORMAL_BIT), 0);
        CHECK_EQ_INT(runstate_add(&s, 40, 0), 0);
        CHECK_EQ_INT(runstate_format(&s, &text), 0);
        CHECK(strstr(text, "offline 35 Movable\n") != NULL);
        CHECK(strstr(text, "offline 40 -\n") != NULL);

        CHECK_EQ_INT(runstate_read(fd, &t, NULL), -ENOENT);
        CHECK_EQ_INT(runstate_write(fd, &s), 0);
        CHECK_EQ_INT(runstate_read(fd, &t, NULL), 0);
        CHECK_EQ_STR(t.boot_id, BOOT);
        CHECK_EQ_INT(t.n_blocks, 3);
        for (size_t i = 0; i < 3 && i < t.n_blocks; i++) {
                CHECK_EQ_INT(t.blocks[i].index, s.blocks[i].index);
                CHECK_EQ_INT(t.blocks[i].zones, s.blocks[i].zones);
        }
        /* no temporary left behind */
        CHECK(faccessat(fd, RUNSTATE_FILE ".new", F_OK, 0) < 0);
        runstate_free(&t);

        /* rewritten whole */
        runstate_free(&s);
        CHECK_EQ_INT(runstate_write(fd, &s), 0);
        CHECK_EQ_INT(runstate_read(fd, &t, NULL), 0);
        CHECK_EQ_INT(t.n_blocks, 0);
        runstate_free(&t);
        runstate_free(&t);
        runstate_free(NULL);
        close(fd);
        tmpdir_remove(dir);
}

static void test_energy(void)
{
        RunState s = { 0 }, t = { 0 };
        _cleanup_free_ char *text = NULL;
        unsigned line = 0;

        s.has_energy = true;
        s.saved_joules = 812.5;
        s.spent_joules = 30.25;
        s.offline_byte_seconds = 5.5e12;
        CHECK_EQ_INT(runstate_add(&s, 35, ZONE_MOVABLE_BIT), 0);
        CHECK_EQ_INT(runstate_format(&s, &text), 0);
        CHECK(strstr(text, "energy 812.5 30.25 5.5e+12\n") != NULL);
        CHECK_EQ_INT(runstate_parse(text, &t, &line), 0);
        CHECK(t.has_energy);
        CHECK(t.saved_joules == 812.5 && t.spent_joules == 30.25 && t.offline_byte_seconds == 5.5e12);
        runstate_free(&t);

        /* a broken energy line loses the figures, never the blocks */
        CHECK_EQ_INT(runstate_parse("offline 35 Movable\nenergy 1 x 3\n", &t, &line), 0);
        CHECK(!t.has_energy);
        CHECK_EQ_INT(t.n_blocks, 1);
        runstate_free(&t);
        CHECK_EQ_INT(runstate_parse("energy -1 2 3\nenergy nan 2 3\nenergy 1 2\n", &t, &line), 0);
        CHECK(!t.has_energy);
        runstate_free(&t);
        runstate_free(&s);
}

int main(void)
{
        test_parse();
        test_roundtrip();
        test_energy();
        return test_summary("test-runstate");
}
