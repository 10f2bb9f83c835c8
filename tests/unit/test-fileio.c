/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "testutil.h"
#include "util.h"

static void test_parse_u64(void)
{
        uint64_t v = 77;

        CHECK_EQ_INT(parse_u64("8000000", 16, &v), 0);
        CHECK_EQ_INT(v, 0x8000000);
        CHECK_EQ_INT(parse_u64(" 42\n", 10, &v), 0);
        CHECK_EQ_INT(v, 42);
        v = 77;
        CHECK_EQ_INT(parse_u64("", 10, &v), -EINVAL);
        CHECK_EQ_INT(parse_u64("-1", 10, &v), -EINVAL);
        CHECK_EQ_INT(parse_u64("+1", 10, &v), -EINVAL);
        CHECK_EQ_INT(parse_u64("12x", 10, &v), -EINVAL);
        CHECK_EQ_INT(parse_u64("1 2", 10, &v), -EINVAL);
        CHECK_EQ_INT(parse_u64("18446744073709551616", 10, &v), -ERANGE);
        CHECK_EQ_INT(parse_u64(NULL, 10, &v), -EINVAL);
        CHECK_EQ_INT(v, 77); /* untouched on failure */
        CHECK_EQ_INT(parse_u64("18446744073709551615", 10, &v), 0);
        CHECK(v == UINT64_MAX);
}

static void test_attrs(void)
{
        char *root = tmpdir_make();
        char buf[8], big[4096];
        _cleanup_free_ char *all = NULL;
        size_t len = 0;
        uint64_t v;
        int dfd = open(root, O_RDONLY | O_DIRECTORY);

        fake_write(root, "a", "online\n");
        CHECK_EQ_INT(attr_read_at(dfd, "a", buf, sizeof(buf)), 6);
        CHECK_EQ_STR(buf, "online");
        /* a value that fills the buffer is truncation, not a value */
        fake_write(root, "b", "online_movable\n");
        CHECK_EQ_INT(attr_read_at(dfd, "b", buf, sizeof(buf)), -EFBIG);
        CHECK_EQ_INT(attr_read_at(dfd, "missing", buf, sizeof(buf)), -ENOENT);
        fake_write_bytes(root, "nul", "on\0ne", 5);
        CHECK_EQ_INT(attr_read_at(dfd, "nul", buf, sizeof(buf)), -EBADMSG);
        fake_write(root, "n", "1f\n");
        CHECK_EQ_INT(attr_read_u64_at(dfd, "n", 16, &v), 0);
        CHECK_EQ_INT(v, 31);
        CHECK_EQ_INT(attr_read_u64_at(dfd, "a", 16, &v), -EINVAL);

        CHECK_EQ_INT(attr_write_at(dfd, "a", "offline"), 0);
        fake_read(root, "a", big, sizeof(big));
        CHECK_EQ_STR(big, "offline");
        CHECK_EQ_INT(attr_write_at(dfd, "nodir/x", "1"), -ENOENT);

        CHECK_EQ_INT(file_read_all_at(dfd, "b", 100, &all, &len), 0);
        CHECK_EQ_STR(all, "online_movable\n");
        CHECK_EQ_INT(len, 15);
        CHECK_EQ_INT(file_read_all_at(dfd, "b", 10, &all, &len), -EFBIG);

        /* the buffer grows past its first 16 KiB; exactly max bytes is fine,
         * one more is not */
        {
                size_t n = 100000;
                char *text = malloc(n + 1);

                CHECK(text != NULL);
                for (size_t i = 0; i < n; i++)
                        text[i] = (char)('a' + i % 26);
                text[n] = '\0';
                fake_write(root, "long", text);
                free(all);
                all = NULL;
                CHECK_EQ_INT(file_read_all_at(dfd, "long", n, &all, &len), 0);
                CHECK_EQ_INT(len, n);
                CHECK(all && memcmp(all, text, n) == 0 && all[n] == '\0');
                free(all);
                all = NULL;
                CHECK_EQ_INT(file_read_all_at(dfd, "long", n - 1, &all, &len), -EFBIG);
                CHECK_EQ_INT(file_read_all_at(dfd, "long", 16384, &all, &len), -EFBIG);
                CHECK_EQ_INT(file_read_all_at(dfd, "long", 1u << 20, &all, &len), 0);
                CHECK_EQ_INT(len, n);
                free(text);
        }

        close(dfd);
        tmpdir_remove(root);
}

int main(void)
{
        test_parse_u64();
        test_attrs();
        return test_summary("test-fileio");
}
