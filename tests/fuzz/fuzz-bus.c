/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What mempowerctl reads from the bus: the GetAll() reply, a{sv}, and the
 * ListBlocks() reply, a(uissbtttttbstttbs), decoded by props_read() and
 * blocks_read() and then printed (text and JSON, to /dev/null). Messages are
 * built from the input with sd-bus's public append calls: the expected
 * shapes with fuzzed values, and arbitrary other signatures (nested arrays,
 * structs, variants, dicts) in their place. Decoding a well-formed message
 * of the expected shape must give back exactly what was appended.
 *
 * The decoders are static in mempowerctl.c, so the file is compiled in here
 * with its main() renamed. Why the daemon's side is not fuzzed: README.md,
 * "Fuzzing". */
#define main mempowerctl_main
int mempowerctl_main(int argc, char *argv[]);
#include "mempowerctl.c"
#undef main

#include <sys/socket.h>

#include "fuzz.h"

static sd_bus *bus;
static uint64_t cookie;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        int fds[2], r;

        /* Messages can be created only on a bus that was started; a
         * socketpair nobody answers on is enough, nothing is sent. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
                perror("socketpair");
                abort();
        }
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_fd(bus, fds[0], fds[0]);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                fprintf(stderr, "Failed to start a bus on a socketpair: %s\n", strerror(-r));
                abort();
        }
        if (!freopen("/dev/null", "w", stdout)) {
                perror("/dev/null");
                abort();
        }
        return 0;
}

typedef struct Reader {
        const uint8_t *p;
        size_t left;
} Reader;

static uint8_t rd_u8(Reader *r)
{
        if (r->left == 0)
                return 0;
        r->left--;
        return *r->p++;
}

static uint64_t rd_u64(Reader *r)
{
        uint64_t v = 0;

        for (unsigned i = 0; i < 8; i++)
                v = v << 8 | rd_u8(r);
        return v;
}

/* A string sd-bus accepts (no NUL, valid UTF-8): 7-bit bytes, and 0xff
 * stands for a two-byte character. */
static void rd_string(Reader *r, char *buf, size_t size)
{
        size_t len = rd_u8(r) % 80, n = 0;

        for (size_t i = 0; i < len && n + 3 < size; i++) {
                uint8_t c = rd_u8(r);

                if (c == 0xff) {
                        buf[n++] = (char)0xc3;
                        buf[n++] = (char)0xa9;
                } else
                        buf[n++] = (char)((c & 0x7f) ? (c & 0x7f) : '"');
        }
        buf[n] = '\0';
}

/* ---- arbitrary types and values ---- */

/* Composite types start only below SIG_MAX; depth 3 at most: fits SIG_BUF. */
#define SIG_MAX 64
#define SIG_BUF 128

/* Append one complete type to sig (NUL-terminated, SIG_BUF bytes). */
static void gen_type(Reader *r, unsigned depth, char *sig)
{
        static const char basic[] = "ybnqiuxtdsog";
        size_t len = strlen(sig);
        uint8_t c = rd_u8(r) % 16;

        if (depth >= 3 || len + 8 >= SIG_MAX || c < 12) {
                sig[len] = basic[c % 12];
                sig[len + 1] = '\0';
                return;
        }
        switch (c) {
        case 12:
                strcat(sig, "a");
                gen_type(r, depth + 1, sig);
                break;
        case 13: {
                unsigned n = 1 + rd_u8(r) % 4;

                strcat(sig, "(");
                for (unsigned i = 0; i < n && strlen(sig) + 8 < SIG_MAX; i++)
                        gen_type(r, depth + 1, sig);
                strcat(sig, ")");
                break;
        }
        case 14:
                strcat(sig, "v");
                break;
        default:
                strcat(sig, (const char *[]){ "a{s", "a{u", "a{t", "a{y" }[rd_u8(r) % 4]);
                gen_type(r, depth + 1, sig);
                strcat(sig, "}");
                break;
        }
}

/* Length of the complete type at the start of sig. */
static size_t type_len(const char *sig)
{
        size_t i = 0;
        int nest = 0;

        if (sig[0] == 'a')
                return 1 + type_len(sig + 1);
        if (sig[0] != '(' && sig[0] != '{')
                return 1;
        do {
                if (sig[i] == '(' || sig[i] == '{')
                        nest++;
                else if (sig[i] == ')' || sig[i] == '}')
                        nest--;
                i++;
        } while (nest > 0 && sig[i]);
        return i;
}

static int append_value(sd_bus_message *m, const char *sig, Reader *r, unsigned depth)
{
        char inner[SIG_BUF], s[256];
        size_t len = type_len(sig);
        int k;

        switch (sig[0]) {
        case 'y':
        case 'b':
        case 'n':
        case 'q':
        case 'i':
        case 'u':
        case 'x':
        case 't': {
                uint64_t v = rd_u64(r);
                uint8_t y = (uint8_t)v;
                int16_t n16 = (int16_t)v;
                int32_t i32 = (int32_t)v;
                int b = (int)(v & 1);

                switch (sig[0]) {
                case 'y':
                        return sd_bus_message_append_basic(m, 'y', &y);
                case 'b':
                        return sd_bus_message_append_basic(m, 'b', &b);
                case 'n':
                case 'q':
                        return sd_bus_message_append_basic(m, sig[0], &n16);
                case 'i':
                case 'u':
                        return sd_bus_message_append_basic(m, sig[0], &i32);
                default:
                        return sd_bus_message_append_basic(m, sig[0], &v);
                }
        }
        case 'd': {
                uint64_t bits = rd_u64(r);
                double d;

                memcpy(&d, &bits, sizeof(d));
                return sd_bus_message_append_basic(m, 'd', &d);
        }
        case 's':
                rd_string(r, s, sizeof(s));
                return sd_bus_message_append_basic(m, 's', s);
        case 'o':
                return sd_bus_message_append_basic(m, 'o', rd_u8(r) & 1 ? "/org/mempowerd1" : "/");
        case 'g':
                return sd_bus_message_append_basic(m, 'g', rd_u8(r) & 1 ? "a{sv}" : "");
        case 'v':
                inner[0] = '\0';
                gen_type(r, depth + 1, inner);
                k = sd_bus_message_open_container(m, 'v', inner);
                if (k >= 0)
                        k = append_value(m, inner, r, depth + 1);
                return k < 0 ? k : sd_bus_message_close_container(m);
        case 'a': {
                unsigned n = rd_u8(r) % 5;

                snprintf(inner, sizeof(inner), "%.*s", (int)(len - 1), sig + 1);
                k = sd_bus_message_open_container(m, 'a', inner);
                for (unsigned i = 0; k >= 0 && i < n; i++)
                        k = append_value(m, inner, r, depth + 1);
                return k < 0 ? k : sd_bus_message_close_container(m);
        }
        case '(':
        case '{':
                snprintf(inner, sizeof(inner), "%.*s", (int)(len - 2), sig + 1);
                k = sd_bus_message_open_container(m, sig[0] == '(' ? 'r' : 'e', inner);
                for (const char *t = inner; k >= 0 && *t; t += type_len(t))
                        k = append_value(m, t, r, depth + 1);
                return k < 0 ? k : sd_bus_message_close_container(m);
        }
        return -EINVAL;
}

static int append_random(sd_bus_message *m, Reader *r)
{
        char sig[SIG_BUF] = "";

        gen_type(r, 0, sig);
        return append_value(m, sig, r, 0);
}

/* ---- the two replies mempowerctl expects ---- */

#define ENTRIES_MAX 24

typedef struct Expected {
        Prop props[ENTRIES_MAX]; /* s points into strings[] */
        char strings[ENTRIES_MAX][256];
        size_t n_props;
        OutBlock blocks[ENTRIES_MAX]; /* state, zones, action, domain point into bstrings[] */
        char bstrings[ENTRIES_MAX][4][256];
        size_t n_blocks;
} Expected;

static const char *const known_props[] = {
        "State",          "BlocksTotal",        "BlocksOnline",          "BlocksOffline",
        "BytesOffline",   "BytesOfflinedByDaemon", "PagesMigrated",     "EvacuationsStarted",
        "EvacuationsSucceeded", "EvacuationsFailed", "EvacuationsAborted", "LastError",       "ReserveBytes",
        "TickUSec",       "DryRun",             "Version",               "BlockSizeBytes",
        "DomainsTotal",   "WattsSavedEstimate", "NetEnergyJoules",       "DramWattsMeasured",
};

static int append_props(sd_bus_message *m, Reader *r, Expected *x)
{
        unsigned n = rd_u8(r) % ENTRIES_MAX;
        int k;

        k = sd_bus_message_open_container(m, 'a', "{sv}");
        for (unsigned i = 0; k >= 0 && i < n; i++) {
                uint8_t how = rd_u8(r);
                char name[256], type = "sutbd"[how % 5];
                Prop *p = &x->props[x->n_props];
                bool keep;

                if (how & 0x80)
                        rd_string(r, name, sizeof(name));
                else
                        snprintf(name, sizeof(name), "%s",
                                 known_props[rd_u8(r) % ELEMENTSOF(known_props)]);
                *p = (Prop){ 0 };
                k = sd_bus_message_open_container(m, 'e', "sv");
                if (k >= 0)
                        k = sd_bus_message_append_basic(m, 's', name);
                if (k < 0)
                        break;
                if (how & 0x40) { /* a type mempowerctl skips, or one it knows */
                        char sig[SIG_BUF] = "";

                        gen_type(r, 1, sig);
                        k = sd_bus_message_open_container(m, 'v', sig);
                        if (k >= 0)
                                k = append_value(m, sig, r, 1);
                        type = strlen(sig) == 1 && strchr("sutbdi", sig[0]) ? sig[0] : 0;
                        if (type) /* the value cannot be predicted: not checked */
                                type = '?';
                } else {
                        char *s = x->strings[x->n_props];
                        uint64_t v = rd_u64(r);
                        uint32_t u = (uint32_t)v;
                        int b = (int)(v & 1);

                        k = sd_bus_message_open_container(m, 'v', (char[]){ type, '\0' });
                        if (k >= 0 && type == 's') {
                                rd_string(r, s, 256);
                                k = sd_bus_message_append_basic(m, 's', s);
                                p->type = PT_STR;
                                p->s = s;
                        } else if (k >= 0 && type == 'u') {
                                k = sd_bus_message_append_basic(m, 'u', &u);
                                p->type = PT_U32;
                                p->u = u;
                        } else if (k >= 0 && type == 't') {
                                k = sd_bus_message_append_basic(m, 't', &v);
                                p->type = PT_U64;
                                p->u = v;
                        } else if (k >= 0 && type == 'd') {
                                memcpy(&p->d, &v, sizeof(p->d)); /* any bits, NaNs too */
                                k = sd_bus_message_append_basic(m, 'd', &p->d);
                                p->type = PT_DOUBLE;
                        } else if (k >= 0) {
                                k = sd_bus_message_append_basic(m, 'b', &b);
                                p->type = PT_BOOL;
                                p->u = (uint64_t)b;
                        }
                }
                if (k >= 0)
                        k = sd_bus_message_close_container(m);
                if (k >= 0)
                        k = sd_bus_message_close_container(m);
                /* mempowerctl keeps the properties of the six types it
                 * knows, when they have a name. */
                snprintf(p->name, sizeof(p->name), "%s", name);
                keep = type && p->name[0];
                if (type == '?')
                        p->name[0] = '?'; /* present, value unchecked */
                if (keep)
                        x->n_props++;
        }
        if (k >= 0)
                k = sd_bus_message_close_container(m);
        return k;
}

static int append_blocks(sd_bus_message *m, Reader *r, Expected *x)
{
        unsigned n = rd_u8(r) % ENTRIES_MAX;
        int k;

        k = sd_bus_message_open_container(m, 'a', MEMPOWERD_BLOCK_SIGNATURE);
        for (unsigned i = 0; k >= 0 && i < n; i++) {
                OutBlock *b = &x->blocks[x->n_blocks];
                char(*s)[256] = x->bstrings[x->n_blocks];

                *b = (OutBlock){
                        .index = (uint32_t)rd_u64(r),
                        .node = (int32_t)rd_u64(r),
                        .counted = rd_u8(r) & 1,
                        .pages = rd_u64(r),
                        .free_pages = rd_u64(r),
                        .movable_pages = rd_u64(r),
                        .unmovable_pages = rd_u64(r),
                        .hugetlb_pages = rd_u64(r),
                        .offlinable = rd_u8(r) & 1,
                        .start_address = rd_u64(r),
                        .unknown_pages = rd_u64(r),
                        .nopage_pages = rd_u64(r),
                        .owned = rd_u8(r) & 1,
                };
                for (int i = 0; i < 4; i++)
                        rd_string(r, s[i], 256);
                b->state = s[0];
                b->zones = s[1];
                b->action = s[2];
                b->domain = s[3];
                k = sd_bus_message_append(m, MEMPOWERD_BLOCK_SIGNATURE, b->index, b->node, b->state,
                                          b->zones, (int)b->counted, b->pages, b->free_pages,
                                          b->movable_pages, b->unmovable_pages, b->hugetlb_pages,
                                          (int)b->offlinable, b->action, b->start_address,
                                          b->unknown_pages, b->nopage_pages, (int)b->owned,
                                          b->domain);
                if (k >= 0)
                        x->n_blocks++;
        }
        if (k >= 0)
                k = sd_bus_message_close_container(m);
        return k;
}

static void check_props(const Props *got, const Expected *x)
{
        FUZZ_ASSERT(got->n == x->n_props);
        for (size_t i = 0; i < got->n; i++) {
                const Prop *g = &got->v[i], *e = &x->props[i];

                FUZZ_ASSERT(g->name[0]);
                if (e->name[0] == '?')
                        continue;
                FUZZ_ASSERT(strcmp(g->name, e->name) == 0 && g->type == e->type);
                if (e->type == PT_STR)
                        FUZZ_ASSERT(g->s && strcmp(g->s, e->s) == 0);
                else if (e->type == PT_DOUBLE)
                        FUZZ_ASSERT(memcmp(&g->d, &e->d, sizeof(g->d)) == 0);
                else
                        FUZZ_ASSERT(g->u == e->u);
        }
}

static void check_blocks(const OutBlock *got, size_t n, const Expected *x)
{
        FUZZ_ASSERT(n == x->n_blocks);
        for (size_t i = 0; i < n; i++) {
                const OutBlock *g = &got[i], *e = &x->blocks[i];

                FUZZ_ASSERT(g->index == e->index && g->node == e->node &&
                            g->counted == e->counted && g->pages == e->pages &&
                            g->free_pages == e->free_pages && g->movable_pages == e->movable_pages &&
                            g->unmovable_pages == e->unmovable_pages &&
                            g->hugetlb_pages == e->hugetlb_pages && g->offlinable == e->offlinable &&
                            g->start_address == e->start_address &&
                            g->unknown_pages == e->unknown_pages &&
                            g->nopage_pages == e->nopage_pages && g->owned == e->owned);
                FUZZ_ASSERT(strcmp(g->state, e->state) == 0 && strcmp(g->zones, e->zones) == 0 &&
                            strcmp(g->action, e->action) == 0 && strcmp(g->domain, e->domain) == 0);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Reader r = { .p = data, .left = size };
        static Expected x;
        uint8_t mode = rd_u8(&r) % 4, opts = rd_u8(&r);
        uint64_t block_size = rd_u64(&r);
        Props props = { 0 };
        OutBlock *blocks = NULL;
        size_t n_blocks = 0;
        int k;

        if (size > 16 * 1024)
                return 0;
        x.n_props = x.n_blocks = 0;
        FUZZ_ASSERT(sd_bus_message_new_method_call(bus, &m, MEMPOWERD_BUS_NAME, MEMPOWERD_BUS_PATH,
                                                   MEMPOWERD_BUS_INTERFACE, "Fuzz") >= 0);
        if (mode == 0)
                k = append_props(m, &r, &x);
        else if (mode == 1)
                k = append_blocks(m, &r, &x);
        else {
                k = 0;
                for (unsigned i = 0; k >= 0 && i < 1 + mode % 3; i++)
                        k = append_random(m, &r);
        }
        if (k < 0 || sd_bus_message_seal(m, ++cookie, 0) < 0)
                return 0; /* sd-bus refused to build it: nothing to decode */

        arg_json = opts & 1;
        arg_out = (OutOptions){ .all = opts & 2, .legend = opts & 4, .exact = opts & 8 };

        FUZZ_ASSERT(sd_bus_message_rewind(m, true) >= 0);
        k = props_read(m, &props);
        if (mode == 0)
                FUZZ_ASSERT(k == 0);
        if (k == 0) {
                if (mode == 0)
                        check_props(&props, &x);
                status_json(&props);
                status_text(&props);
                props_free(&props);
        }

        FUZZ_ASSERT(sd_bus_message_rewind(m, true) >= 0);
        k = blocks_read(m, &blocks, &n_blocks);
        if (mode == 1)
                FUZZ_ASSERT(k == 0);
        if (k == 0) {
                if (mode == 1)
                        check_blocks(blocks, n_blocks, &x);
                blocks_json(blocks, n_blocks, block_size);
                (void)blocks_text(blocks, n_blocks, block_size);
                free(blocks);
        }
        return 0;
}
