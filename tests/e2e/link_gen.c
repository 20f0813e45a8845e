/* link_gen.c -- for tests/e2e/link.sh while `spotlight encode` is not
 * there: the partner's step for the person columns, made with the
 * project's own encoder (person_encode) and a key file. Reads the clear
 * CSV a partner holds, exactly these columns in this order:
 *   case_ref,year_identified,gender,nationality,given_name,family_name,birth_date,sex
 * on standard input and writes what the hub may receive (names, birth
 * date and sex replaced by the encoding):
 *   case_ref,year_identified,gender,nationality,person_clk,person_block
 * (person_clk: base64 of the 1024 bits, word by word little-endian;
 * person_block: %016llx). Test tool only: no quoting, short lines. */
#include "person.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    uint8_t key[32];
    char hex[80], line[1024];
    if (argc != 2) { fprintf(stderr, "usage: link_gen KEYFILE < clear.csv > cases.csv\n"); return 2; }
    FILE *kf = fopen(argv[1], "r");
    if (!kf || !fgets(hex, sizeof hex, kf) || sodium_init() < 0 ||
        sodium_hex2bin(key, sizeof key, hex, 64, NULL, NULL, NULL) != 0) {
        fprintf(stderr, "link_gen: cannot read the key %s\n", argv[1]);
        return 1;
    }
    fclose(kf);
    printf("case_ref,year_identified,gender,nationality,person_clk,person_block\n");
    static const char header[] =
        "case_ref,year_identified,gender,nationality,given_name,family_name,birth_date,sex";
    if (!fgets(line, sizeof line, stdin) || strncmp(line, header, sizeof header - 1) != 0) {
        fprintf(stderr, "link_gen: the header must be %s\n", header);
        return 1;
    }
    while (fgets(line, sizeof line, stdin)) {
        char *f[8], *p = line;
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line) continue;
        for (int i = 0; i < 8; i++) {
            f[i] = p;
            p = p ? strchr(p, ',') : NULL;
            if (p) *p++ = '\0';
            if (!f[i]) { fprintf(stderr, "link_gen: 8 columns per line\n"); return 1; }
        }
        person_in in = { f[4], f[5], f[6], f[7], f[3] };
        uint64_t clk[PPRL_WORDS], block;
        uint16_t pc;
        unsigned char raw[PPRL_BITS / 8];
        char b64[200];
        sp_err e;
        sp_err_init(&e);
        if (person_encode(key, &in, clk, &pc, &block, &e) != SP_OK) {
            sp_err_print(&e, stderr);
            sp_err_free(&e);
            return 1;
        }
        sp_err_free(&e);
        for (int w = 0; w < PPRL_WORDS; w++)
            for (int k = 0; k < 8; k++) raw[w * 8 + k] = (unsigned char)(clk[w] >> (8 * k));
        sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
        printf("%s,%s,%s,%s,%s,%016llx\n", f[0], f[1], f[2], f[3], b64, (unsigned long long)block);
    }
    return 0;
}
