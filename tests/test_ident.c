/* test_ident.c -- known-answer tests for identifier normalisation: published
 * examples from the standards (ISO 13616 / ECBS IBANs, BIP-173 and BIP-350
 * vectors, EIP-55's addresses, Keccak-256 digests), and for each checksum a
 * one-character typo, a swapped adjacent pair and a wrong length. */
#include "test.h"
#include "ident.h"
#include "keccak.h"

/* Runs ident_normalise on a NUL-terminated value; returns the result code
 * and leaves the output in `out` and the reason in `why`. */
static char out[1200];
static const char *why;

static int norm(const char *type, const char *cp, const char *cc, const char *raw)
{
    why = NULL;
    memset(out, 'X', sizeof out);
    return ident_normalise(type, cp, cc, raw, strlen(raw), out, sizeof out, &why);
}

#define VALID(type, cp, cc, raw, want) do { \
    int rc_ = norm(type, cp, cc, raw); \
    if (rc_ != IDENT_VALID) TFAIL("%s \"%s\": rc %d, why \"%s\"", type, raw, rc_, why ? why : ""); \
    ASSERT_STR_EQ(out, want); } while (0)

#define INVALID(type, cp, cc, raw, reason) do { \
    int rc_ = norm(type, cp, cc, raw); \
    if (rc_ != IDENT_INVALID) TFAIL("%s \"%s\": rc %d, out \"%s\"", type, raw, rc_, out); \
    ASSERT_NOT_NULL(why); ASSERT_CONTAINS(why, reason); } while (0)

static void hex(const uint8_t *d, size_t n, char *o)
{
    for (size_t i = 0; i < n; i++)
        sprintf(o + 2 * i, "%02x", d[i]);
}

TEST(keccak_known_answers)
{
    uint8_t d[32];
    char h[65];
    keccak256("", 0, d);
    hex(d, 32, h);
    ASSERT_STR_EQ(h, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    keccak256("abc", 3, d);
    hex(d, 32, h);
    ASSERT_STR_EQ(h, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    const char *fox = "The quick brown fox jumps over the lazy dog";
    keccak256(fox, strlen(fox), d);
    hex(d, 32, h);
    ASSERT_STR_EQ(h, "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
}

TEST(iban_valid_examples)
{
    VALID("iban", NULL, NULL, "GB82WEST12345698765432", "GB82WEST12345698765432");
    VALID("iban", NULL, NULL, "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432");
    VALID("iban", NULL, NULL, "  de89 3704 0044 0532 0130 00 ", "DE89370400440532013000");
    VALID("iban", NULL, NULL, "IBAN FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606");
    VALID("iban", NULL, NULL, "NL91ABNA0417164300", "NL91ABNA0417164300");
    VALID("iban", NULL, NULL, "BE68539007547034", "BE68539007547034");
    VALID("iban", NULL, NULL, "NO9386011117947", "NO9386011117947");
    VALID("iban", NULL, NULL, "MT84MALT011000012345MTLCAST001S", "MT84MALT011000012345MTLCAST001S");
}

TEST(iban_invalid)
{
    INVALID("iban", NULL, NULL, "GB82WEST12345698765433", "IBAN checksum (MOD 97-10) fails");
    ASSERT_STR_EQ(out, "GB82WEST12345698765433");
    INVALID("iban", NULL, NULL, "GB82WEST12345698765423", "MOD 97-10");      /* swapped pair */
    INVALID("iban", NULL, NULL, "DE89370400440523013000", "MOD 97-10");
    INVALID("iban", NULL, NULL, "DE8937040044053201300", "DE IBANs have 22 characters, this has 21");
    ASSERT_STR_EQ(out, "DE8937040044053201300");
    INVALID("iban", NULL, NULL, "ZZ89370400440532013000", "ZZ is not a country in the IBAN registry");
    INVALID("iban", NULL, NULL, "DE89_370400440532013000", "only letters and digits");
    INVALID("iban", NULL, NULL, "DEXX370400440532013000", "check digits");
    INVALID("iban", NULL, NULL, "", "too short");
}

TEST(bank_account_rules)
{
    VALID("bank_account", NULL, NULL, " 123-456 789/0a ", "1234567890A");
    INVALID("bank_account", NULL, NULL, "12345", "6 to 34");
    INVALID("bank_account", NULL, NULL, "1234#56789", "only letters and digits");
    ASSERT_STR_EQ(out, "123456789");
}

TEST(phone_e164)
{
    VALID("phone", NULL, NULL, "+855 12 345 678", "+85512345678");
    VALID("phone", NULL, "KH", "012 345 678", "+85512345678");
    VALID("phone", NULL, "kh", "012-345-678", "+85512345678");
    VALID("phone", NULL, NULL, "0066 81 234 5678", "+66812345678");
    VALID("phone", NULL, "MM", "+66 (81) 234.5678", "+66812345678");  /* + wins over the country */
    VALID("phone", NULL, "US", "(202) 555-0143", "+12025550143");
    VALID("phone", NULL, "IT", "06 1234 5678", "+390612345678");      /* Italy keeps its 0 */
    VALID("phone", NULL, "RU", "8 912 345 67 89", "+79123456789");    /* trunk 8 */
    VALID("phone", NULL, NULL, "tel:+84912345678", "+84912345678");
    VALID("phone", NULL, "KH", "855 12 345 678", "+85512345678");  /* + left out */
    VALID("phone", NULL, "TH", "66 81 234 5678", "+66812345678");
    VALID("phone", NULL, "TH", "081 234 5678", "+66812345678");
    INVALID("phone", NULL, NULL, "+855 12 ABC 678", "no letters");
    INVALID("phone", NULL, "KH", "012 345 67B", "no letters");
    INVALID("phone", NULL, NULL, "012 345 678", "no country");
    INVALID("phone", NULL, "QQ", "012 345 678", "QQ is not a country");
    INVALID("phone", NULL, NULL, "+855 1234", "8 to 15 digits");
    INVALID("phone", NULL, NULL, "+855 1234 5678 9012 34", "8 to 15 digits");
    INVALID("phone", NULL, NULL, "+999 1234 5678", "assigned country calling code");
    INVALID("phone", NULL, NULL, "+855 12*345*678", "only digits");
}

TEST(calling_codes_table)
{
    char code[8], trunk[8];
    ASSERT_EQ(ident_calling_code("KH", code, trunk), 1);
    ASSERT_STR_EQ(code, "855");
    ASSERT_STR_EQ(trunk, "0");
    ASSERT_EQ(ident_calling_code("th", code, trunk), 1);
    ASSERT_STR_EQ(code, "66");
    ASSERT_EQ(ident_calling_code("IT", code, trunk), 1);
    ASSERT_STR_EQ(trunk, "");
    ASSERT_EQ(ident_calling_code("MM", code, trunk), 1);
    ASSERT_STR_EQ(code, "95");
    ASSERT_EQ(ident_calling_code("XX", code, trunk), 0);
    ASSERT_STR_EQ(code, "");
    ASSERT_EQ(ident_calling_code("K", code, trunk), 0);
    /* every region's anchors are in the table */
    const char *some[] = {"CN", "LA", "VN", "ID", "PH", "MY", "SG", "NG", "KE", "ET", "UG",
                          "DE", "UA", "BR", "CO", "US", "CA", "IN", "PK", "BD", "LK", "NP",
                          "ZA", "EG", "MA", "FR", "GB", "MX", "AR", "JP", "KR", "TW", "HK"};
    for (size_t i = 0; i < sizeof some / sizeof some[0]; i++)
        if (!ident_calling_code(some[i], code, trunk))
            TFAIL("no calling code for %s", some[i]);
}

TEST(bitcoin_base58check)
{
    VALID("crypto_wallet", "bitcoin", NULL, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
          "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
    VALID("crypto_wallet", "bitcoin", NULL, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
          "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy");
    VALID("crypto_wallet", "bitcoin", NULL, "bitcoin:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa?amount=1",
          "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
    /* chain not given: recognised by shape */
    VALID("crypto_wallet", NULL, NULL, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
          "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
    INVALID("crypto_wallet", "bitcoin", NULL, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
            "Base58Check checksum mismatch");                                /* typo */
    INVALID("crypto_wallet", "bitcoin", NULL, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DviFNa",
            "Base58Check checksum mismatch");                                /* swapped */
    INVALID("crypto_wallet", "bitcoin", NULL, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN",
            "Base58Check");                                                  /* short */
    INVALID("crypto_wallet", "bitcoin", NULL, "1A1zP1eP5QGefi2DMPTfTL5SLmv7Div0Na", "not Base58");
    /* a valid TRON address is not a Bitcoin one */
    INVALID("crypto_wallet", "bitcoin", NULL, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
            "version byte 0x41");
}

TEST(bitcoin_bech32_bip173_bip350)
{
    VALID("crypto_wallet", "bitcoin", NULL, "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
          "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4");
    VALID("crypto_wallet", "bitcoin", NULL,
          "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
          "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3");
    VALID("crypto_wallet", "bitcoin", NULL,
          "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
          "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y");
    VALID("crypto_wallet", "bitcoin", NULL, "BC1SW50QGDZ25J", "bc1sw50qgdz25j");
    VALID("crypto_wallet", "bitcoin", NULL, "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
          "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs");
    VALID("crypto_wallet", "bitcoin", NULL,
          "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
          "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0");
    /* BIP-350 invalid vectors */
    INVALID("crypto_wallet", "bitcoin", NULL,
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "uses Bech32m");
    INVALID("crypto_wallet", "bitcoin", NULL,
            "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL", "uses Bech32m");
    INVALID("crypto_wallet", "bitcoin", NULL, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
            "uses Bech32 (BIP-173)");
    INVALID("crypto_wallet", "bitcoin", NULL,
            "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", "Bech32 alphabet");
    INVALID("crypto_wallet", "bitcoin", NULL,
            "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", "witness version");
    INVALID("crypto_wallet", "bitcoin", NULL, "bc1pw5dgrnzv", "2 to 40 bytes");
    INVALID("crypto_wallet", "bitcoin", NULL, "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
            "20 or 32 bytes");
    INVALID("crypto_wallet", "bitcoin", NULL, "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", "padding");
    INVALID("crypto_wallet", "bitcoin", NULL, "bc1gmk9yu", "witness version");  /* empty data */
    INVALID("crypto_wallet", "bitcoin", NULL, "bc1qqqqq", "separator");
    /* typo, swapped pair, mixed case, testnet */
    INVALID("crypto_wallet", "bitcoin", NULL, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
            "checksum mismatch");
    INVALID("crypto_wallet", "bitcoin", NULL, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8ft34",
            "checksum mismatch");
    INVALID("crypto_wallet", "bitcoin", NULL, "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            "not mixed");
    INVALID("crypto_wallet", "bitcoin", NULL,
            "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "mainnet");
}

TEST(ethereum_eip55)
{
    const char *eip55[] = {
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    };
    for (size_t i = 0; i < 4; i++) {
        char low[64];
        for (size_t j = 0; eip55[i][j]; j++)
            low[j] = (char)(eip55[i][j] >= 'A' && eip55[i][j] <= 'Z' ? eip55[i][j] + 32 : eip55[i][j]);
        low[strlen(eip55[i])] = '\0';
        VALID("crypto_wallet", "ethereum", NULL, eip55[i], low);
        VALID("crypto_wallet", "bsc", NULL, eip55[i], low);
    }
    /* all-upper and all-lower forms from the EIP are accepted unchecked */
    VALID("crypto_wallet", "ethereum", NULL, "0x52908400098527886E0F7030069857D2E4169EE7",
          "0x52908400098527886e0f7030069857d2e4169ee7");
    VALID("crypto_wallet", "ethereum", NULL, "0xde709f2102306220921060314715629080e2fb77",
          "0xde709f2102306220921060314715629080e2fb77");
    VALID("crypto_wallet", "ethereum", NULL, "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
          "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
    VALID("crypto_wallet", NULL, NULL, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
          "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
    /* one letter's case flipped; a swapped pair; a typo; wrong length */
    INVALID("crypto_wallet", "ethereum", NULL, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
            "EIP-55 mixed-case checksum mismatch");
    INVALID("crypto_wallet", "ethereum", NULL, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeeAd",
            "EIP-55 mixed-case checksum mismatch");
    INVALID("crypto_wallet", "ethereum", NULL, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAee",
            "EIP-55 mixed-case checksum mismatch");
    INVALID("crypto_wallet", "ethereum", NULL, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
            "40 hexadecimal digits, this has 39");
    INVALID("crypto_wallet", "ethereum", NULL, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg",
            "hexadecimal");
}

TEST(tron_base58check)
{
    VALID("crypto_wallet", "tron", NULL, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
          "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    VALID("crypto_wallet", NULL, NULL, " TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t\n",
          "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    INVALID("crypto_wallet", "tron", NULL, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u",
            "Base58Check checksum mismatch");
    INVALID("crypto_wallet", "tron", NULL, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjjL6t",
            "Base58Check checksum mismatch");
    INVALID("crypto_wallet", "tron", NULL, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6",
            "not a TRON address: must start with T and decode to 0x41 + 20 bytes");
    INVALID("crypto_wallet", "tron", NULL, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
            "not a TRON address: must start with T and decode to 0x41 + 20 bytes");
}

TEST(wallet_other_chain)
{
    const char *addr = "LVg2kJoFNg45Nbpy53h7Fe1wKyeXVRhMH9";  /* Litecoin-shaped */
    VALID("crypto_wallet", "other", NULL, addr, addr);
    ASSERT_NOT_NULL(why);
    ASSERT_CONTAINS(why, "not checked");
    INVALID("crypto_wallet", "other", NULL, "abc def", "no spaces");
}

TEST(email_rules)
{
    VALID("email", NULL, NULL, "  John.Doe+jobs@Example.COM ", "john.doe+jobs@example.com");
    VALID("email", NULL, NULL, "mailto:hr@recruit.example.co.th", "hr@recruit.example.co.th");
    INVALID("email", NULL, NULL, "john.doe@example", "has a dot");
    INVALID("email", NULL, NULL, "john doe@example.com", "no spaces");
    INVALID("email", NULL, NULL, "a@b@example.com", "exactly one @");
    INVALID("email", NULL, NULL, "john.example.com", "exactly one @");
    INVALID("email", NULL, NULL, "@example.com", "1 to 64");
    INVALID("email", NULL, NULL, "a@example..com", "two dots");
    INVALID("email", NULL, NULL, "a@exa_mple.com", "cannot be in a domain");
    INVALID("email", NULL, NULL, "mailto:mailto:a@example.com", "cannot be in the part before");
    INVALID("email", NULL, NULL, ".a@example.com", "start or end with a dot");
}

TEST(social_handles)
{
    VALID("social_handle", "telegram", NULL, "@Scam_Boss", "scam_boss");
    VALID("social_handle", "telegram", NULL, "https://t.me/Scam_Boss", "scam_boss");
    INVALID("social_handle", "telegram", NULL, "@abc", "5 to 32");
    INVALID("social_handle", "telegram", NULL, "@abc.def", "only a-z, 0-9");
    INVALID("social_handle", "telegram", NULL, "@1abcdef", "starts with a letter");
    VALID("social_handle", "facebook", NULL, "https://www.facebook.com/profile.php?id=100012345678",
          "100012345678");
    VALID("social_handle", "facebook", NULL, "https://m.facebook.com/John.Smith.77/", "john.smith.77");
    VALID("social_handle", "tiktok", NULL, "https://www.tiktok.com/@job.offer_th", "job.offer_th");
    VALID("social_handle", "instagram", NULL, "@Work.Abroad_2024", "work.abroad_2024");
    INVALID("social_handle", "instagram", NULL, "work abroad", "only a-z");
    VALID("social_handle", "whatsapp", "KH", "012 345 678", "+85512345678");
    VALID("social_handle", "zalo", "VN", "0912 345 678", "+84912345678");
    VALID("social_handle", "zalo", NULL, "Nguyen.Van-A", "nguyen.van-a");
    /* a digits-only handle left by a URL is a phone number (found by fuzz_ident) */
    INVALID("social_handle", "zalo", "VN", "facebook.com/9", "8 to 15 digits");
    VALID("social_handle", "whatsapp", NULL, "https://wa.me/85512345678", "+85512345678");
    INVALID("social_handle", "whatsapp", NULL, "john", "no letters");
    VALID("social_handle", "line", NULL, "@Agent-Lee", "agent-lee");
    VALID("social_handle", NULL, NULL, "@Some_One", "some_one");
    VALID("social_handle", NULL, NULL, "@@Some_One", "some_one");
    VALID("social_handle", "other", NULL, "fb.com/profile.php?ref=x&id=4", "4");
    INVALID("social_handle", NULL, NULL, "some one", "no spaces");
}

TEST(website_host)
{
    VALID("website", NULL, NULL, "https://WWW.Example.com:8443/path?q=1#x", "example.com");
    VALID("website", NULL, NULL, "jobs.Example.co.th/apply", "jobs.example.co.th");
    VALID("website", NULL, NULL, "http://user@shop.example.org.", "shop.example.org");
    VALID("website", NULL, NULL, "203.0.113.7", "203.0.113.7");
    INVALID("website", NULL, NULL, "localhost", "two labels");
    INVALID("website", NULL, NULL, "exa_mple.com", "cannot be in a domain");
    INVALID("website", NULL, NULL, "-bad.example.com", "dash");
    INVALID("website", NULL, NULL, "example.123", "all digits");
    INVALID("website", NULL, NULL, "https:///", "no host");
    VALID("website", NULL, NULL, "www.www.example.com", "example.com");  /* idempotent */
    VALID("website", NULL, NULL, "www.com", "www.com");
    INVALID("website", NULL, NULL, "@\xC2\xA0.a", "no spaces");  /* found by fuzz_ident */
    INVALID("email", NULL, NULL, "mailto:\xC2\xA0" "a@example.com", "no spaces");
}

TEST(names_nfkc_casefold)
{
    VALID("company", NULL, NULL, "  \xEF\xBC\xA1\xEF\xBC\xA3\xEF\xBC\xAD\xEF\xBC\xA5   Holdings\tLtd ",
          "acme holdings ltd");                                /* full-width ACME */
    VALID("company", NULL, NULL, "Stra\xC3\x9F" "e Trading", "strasse trading");
    VALID("compound", NULL, NULL, "KK\xE3\x80\x80Park", "kk park");  /* ideographic space */
    VALID("compound", NULL, NULL, "\xEF\xAC\x81nance\xC2\xA0Zone", "finance zone");  /* ligature, NBSP */
    INVALID("company", NULL, NULL, "Bad \xC3\x28 UTF-8", "UTF-8");
    INVALID("company", NULL, NULL, "   ", "empty");
    INVALID("company", NULL, NULL, "A\x01" "B", "control");
}

TEST(api_edges)
{
    ASSERT_EQ(norm("passport", NULL, NULL, "X1"), IDENT_UNKNOWN_TYPE);
    ASSERT_STR_EQ(out, "");
    char small[8];
    const char *w = NULL;
    int rc = ident_normalise("iban", NULL, NULL, "GB82WEST12345698765432", 22, small, sizeof small, &w);
    ASSERT_EQ(rc, IDENT_INVALID);
    ASSERT_EQ(strlen(small), 7);
    char big[IDENT_MAX_INPUT + 2];
    memset(big, 'a', sizeof big);
    rc = ident_normalise("company", NULL, NULL, big, sizeof big, out, sizeof out, &w);
    ASSERT_EQ(rc, IDENT_INVALID);
    ASSERT_CONTAINS(w, "longer than");
    rc = ident_normalise("email", NULL, NULL, "a\0b@example.com", 15, out, sizeof out, &w);
    ASSERT_EQ(rc, IDENT_INVALID);
    ASSERT_CONTAINS(w, "NUL");
    /* raw need not be NUL-terminated: only n bytes are read */
    rc = ident_normalise("phone", NULL, NULL, "+85512345678999", 12, out, sizeof out, NULL);
    ASSERT_EQ(rc, IDENT_VALID);
    ASSERT_STR_EQ(out, "+85512345678");
}

TEST_LIST(keccak_known_answers, iban_valid_examples, iban_invalid, bank_account_rules,
          phone_e164, calling_codes_table, bitcoin_base58check, bitcoin_bech32_bip173_bip350,
          ethereum_eip55, tron_base58check, wallet_other_chain, email_rules, social_handles,
          website_host, names_nfkc_casefold, api_edges)
