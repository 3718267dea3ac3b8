"""Programs written the way docs/LANGUAGE.md teaches, whose natural form used to cost far more
AND gates than a better circuit of the same function, with the AND count and AND-depth that
yaogc gave them before the word-level mechanisms that now apply to them (merged multiplexers,
AND-aware Boolean rewriting, constant tables through their algebraic normal form, range
narrowing); ``benchmarks/sizes.py`` reports both. A program whose count did not move is listed
too: it marks what is still to do.

    python benchmarks/natural.py [--json] [--quick]

reports these programs alone (as ``sizes.py`` reports them, without its other records):
``name``, ``and``, ``and_depth``, ``former_and``, ``former_depth`` and ``and_ratio`` (now over
before); ``--quick`` skips the AES round function, the largest."""

from __future__ import annotations

H = "party alice, bob\n"
CAS = ("def cas(a: u32, b: u32) -> (u32, u32):\n"
       "    if a > b:\n"
       "        return b, a\n"
       "    return a, b\n")

# name -> (what it is, source, former AND count, former AND-depth)
NATURAL = {
    "cas_u32": ("compare-and-swap helper with an early return",
        H + CAS + "def main(x: u32 @alice, y: u32 @bob) -> (lo: u32 @both, hi: u32 @both):\n"
               "    return cas(x, y)\n",
        160, 34),
    "bitonic16_cas": ("bitonic sort of 16 u32 on that helper",
        H + "const N = 16\n" + CAS +
        "def main(a: u32[8] @alice, b: u32[8] @bob) -> (r: u32[N] @both):\n"
        "    v = [a[i % 8] for i in range(N)]\n"
        "    for i in range(8):\n"
        "        v[8 + i] = b[i]\n"
        "    for p in range(1, 5):\n"
        "        k = 1 << p\n"
        "        for q in range(p):\n"
        "            j = k >> (q + 1)\n"
        "            for i in range(N):\n"
        "                l = i ^ j\n"
        "                if l > i:\n"
        "                    if (i & k) == 0:\n"
        "                        v[i], v[l] = cas(v[i], v[l])\n"
        "                    else:\n"
        "                        v[l], v[i] = cas(v[l], v[i])\n"
        "    return v\n",
        12800, 340),
    "early_returns_u32": ("a helper with two early returns and a final one",
        H + "def pick(a: u32, b: u32, c: bool, d: bool) -> u32:\n"
        "    if c:\n"
        "        return a\n"
        "    if d:\n"
        "        return b\n"
        "    return a ^ b\n"
        "def main(x: u32 @alice, y: u32 @bob, c: bool @alice, d: bool @bob) -> (r: u32 @both):\n"
        "    return pick(x, y, c, d)\n",
        129, 4),
    "nested_if_same_cond": ("nested ifs and a nested conditional on one condition",
        H + "def main(x: u32 @alice, y: u32 @bob, c: bool @alice) -> (r: u32 @both, s: u32 @both):\n"
        "    r = x\n"
        "    if c:\n"
        "        if c:\n"
        "            r = y\n"
        "    return r, x if c else (x if c else y)\n",
        96, 2),
    "choose_u32": ("(e & f) ^ (~e & g), SHA-256's Ch",
        H + "def main(e: u32 @alice, f: u32 @bob, g: u32 @bob) -> (r: u32 @both):\n"
        "    return (e & f) ^ (~e & g)\n",
        64, 1),
    "majority_u32": ("(a & b) ^ (a & c) ^ (b & c), SHA-256's Maj",
        H + "def main(a: u32 @alice, b: u32 @bob, c: u32 @bob) -> (r: u32 @both):\n"
        "    return (a & b) ^ (a & c) ^ (b & c)\n",
        96, 1),
    "distribute_u32": ("(a & b) ^ (a & c)",
        H + "def main(a: u32 @alice, b: u32 @bob, c: u32 @bob) -> (r: u32 @both):\n"
        "    return (a & b) ^ (a & c)\n",
        64, 1),
    "and_or_bool": ("(a and b) or (a and c)",
        H + "def main(a: bool @alice, b: bool @bob, c: bool @bob) -> (r: bool @both):\n"
        "    return (a and b) or (a and c)\n",
        3, 2),
    "add_sub_u32": ("(a + b) - b",
        H + "def main(a: u32 @alice, b: u32 @bob) -> (r: u32 @both):\n"
        "    return (a + b) - b\n",
        29, 29),
    "sbox_lookup_u8": ("the AES S-box as a constant table, secret index",
        H + "const T: u8[256] = [\n"
        "    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,\n"
        "    0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,\n"
        "    0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,\n"
        "    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,\n"
        "    0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,\n"
        "    0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,\n"
        "    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,\n"
        "    0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,\n"
        "    0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,\n"
        "    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,\n"
        "    0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,\n"
        "    0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,\n"
        "    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,\n"
        "    0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,\n"
        "    0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,\n"
        "    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16\n"
        "]\n"
        "def main(x: u8 @alice) -> (r: u8 @both):\n"
        "    return T[x]\n",
        296, 7),
    "argmax32_u32": ("running max and its index in one loop",
        H + "def main(a: u32[16] @alice, b: u32[16] @bob) -> (m: u32 @both, k: u8 @both):\n"
        "    m = a[0]\n"
        "    k: u8 = 0\n"
        "    for i in range(32):\n"
        "        v = a[i] if i < 16 else b[i - 16]\n"
        "        if v > m:\n"
        "            m = v\n"
        "            k = i\n"
        "    return m, k\n",
        3068, 1023),
    "decision_tree_d6": ("depth-6 tree walked with a secret node index",
        H + "const DEPTH = 6\nconst INNER = 63\n"
        "def main(record: u16[8] @alice, feature_of: u8[INNER] @bob, threshold: u16[INNER] @bob,\n"
        "         label: u8[64] @bob) -> (decision: u8 @alice):\n"
        "    node: u8 = 0\n"
        "    for level in range(DEPTH):\n"
        "        x = record[feature_of[node]]\n"
        "        node = 2 * node + 1 + u8(x > threshold[node])\n"
        "    return label[node - INNER]\n",
        6411, 158),
    "decision_tree_d6_public": ("depth-6 tree with public features, secret node index",
        H + "const DEPTH = 6\nconst INNER = 63\n"
        "const F: u8[INNER] = [" + ", ".join(str((7 * j + 3) % 8) for j in range(63)) + "]\n"
        "def main(record: u16[8] @alice, threshold: u16[INNER] @bob,\n"
        "         label: u8[64] @bob) -> (decision: u8 @alice):\n"
        "    node: u8 = 0\n"
        "    for level in range(DEPTH):\n"
        "        x = record[F[node]]\n"
        "        node = 2 * node + 1 + u8(x > threshold[node])\n"
        "    return label[node - INNER]\n",
        2033, 120),
    "histogram4_secret_index": ("a 4-bucket histogram of 32 samples, h[x % 4] += 1",
        H + "def main(x: u8[16] @alice, y: u8[16] @bob) -> (h: u8[4] @both):\n"
        "    h = [u8(0) for i in range(4)]\n"
        "    for i in range(16):\n"
        "        h[x[i] % 4] += 1\n"
        "        h[y[i] % 4] += 1\n"
        "    return h\n",
        1123, 98),
    "l1_distance32_u16": ("sum of absolute differences written with if/else",
        H + "def main(a: u16[32] @alice, b: u16[32] @bob) -> (s: u32 @both):\n"
        "    s: u32 = 0\n"
        "    for i in range(32):\n"
        "        if a[i] > b[i]:\n"
        "            s += a[i] - b[i]\n"
        "        else:\n"
        "            s += b[i] - a[i]\n"
        "    return s\n",
        3238, 67),
    "edit_distance8": ("edit distance of two 8-symbol strings in u8 cells",
        H + "def main(a: u8[8] @alice, b: u8[8] @bob) -> (d: u8 @both):\n"
        "    prev = [u8(j) for j in range(9)]\n"
        "    for i in range(1, 9):\n"
        "        cur = [u8(i) for j in range(9)]\n"
        "        for j in range(1, 9):\n"
        "            cost = u8(a[i - 1] != b[j - 1])\n"
        "            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)\n"
        "        prev = cur\n"
        "    return prev[8]\n",
        2295, 159),
    "isqrt_u16": ("restoring integer square root",
        H + "def main(x: u16 @alice) -> (r: u16 @both):\n"
        "    r: u16 = 0\n"
        "    for k in range(7, -1, -1):\n"
        "        c = r | (1 << k)\n"
        "        if c * c <= x:\n"
        "            r = c\n"
        "    return r\n",
        171, 57),
    "isqrt_digits_u32": ("digit-by-digit (restoring) square root, compare then subtract",
        H + "def main(x: u32 @alice) -> (r: u32 @both):\n"
        "    num = x\n"
        "    res: u32 = 0\n"
        "    bit: u32 = 1 << 30\n"
        "    for k in range(16):\n"
        "        if num >= res + bit:\n"
        "            num -= res + bit\n"
        "            res = (res >> 1) + bit\n"
        "        else:\n"
        "            res = res >> 1\n"
        "        bit = bit >> 2\n"
        "    return res\n",
        691, 241),
    "reduce_once_u32": ("conditional subtraction, if x >= m: x -= m",
        H + "def main(x: u32 @alice, m: u32 @bob) -> (r: u32 @both):\n"
        "    if x >= m:\n"
        "        x -= m\n"
        "    return x\n",
        95, 33),
    "fixdiv_fix32_16": ("fix32_16 / fix32_16",
        H + "def main(x: fix32_16 @alice, y: fix32_16 @bob) -> (r: fix32_16 @both):\n"
        "    return x / y\n",
        2376, 1206),
    "sha256_fips": ("SHA-256 compression of one block as FIPS 180-4 writes it",
        "party alice, bob\n"
        "const K: u32[64] = [\n"
        "    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,\n"
        "    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,\n"
        "    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,\n"
        "    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,\n"
        "    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,\n"
        "    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,\n"
        "    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,\n"
        "    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,\n"
        "    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,\n"
        "    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,\n"
        "    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]\n"
        "const H0: u32[8] = [\n"
        "    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,\n"
        "    0x1f83d9ab, 0x5be0cd19]\n"
        "\n"
        "def main(x: u32[8] @alice, y: u32[8] @bob) -> (digest: u32[8] @both):\n"
        "    w = [u32(0) for i in range(64)]\n"
        "    for t in range(16):\n"
        "        if t < 8:\n"
        "            w[t] = x[t]\n"
        "        else:\n"
        "            w[t] = y[t - 8]\n"
        "    for t in range(16, 64):\n"
        "        s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)\n"
        "        s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)\n"
        "        w[t] = w[t - 16] + s0 + w[t - 7] + s1\n"
        "    a = H0[0]\n"
        "    b = H0[1]\n"
        "    c = H0[2]\n"
        "    d = H0[3]\n"
        "    e = H0[4]\n"
        "    f = H0[5]\n"
        "    g = H0[6]\n"
        "    h = H0[7]\n"
        "    for t in range(64):\n"
        "        big1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)\n"
        "        ch = (e & f) ^ (~e & g)\n"
        "        t1 = h + big1 + ch + K[t] + w[t]\n"
        "        big0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)\n"
        "        maj = (a & b) ^ (a & c) ^ (b & c)\n"
        "        t2 = big0 + maj\n"
        "        h = g\n"
        "        g = f\n"
        "        f = e\n"
        "        e = d + t1\n"
        "        d = c\n"
        "        c = b\n"
        "        b = a\n"
        "        a = t1 + t2\n"
        "    v = [a, b, c, d, e, f, g, h]\n"
        "    return [H0[i] + v[i] for i in range(8)]\n",
        25786, 1604),
    "aes128_table_sbox": ("AES-128 encryption of one block, the S-box as a constant table",
        "party alice, bob\n"
        "const SBOX: u8[256] = [\n"
        "    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b,\n"
        "    0xfe, 0xd7, 0xab, 0x76, 0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0,\n"
        "    0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0, 0xb7, 0xfd, 0x93, 0x26,\n"
        "    0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,\n"
        "    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2,\n"
        "    0xeb, 0x27, 0xb2, 0x75, 0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0,\n"
        "    0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84, 0x53, 0xd1, 0x00, 0xed,\n"
        "    0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,\n"
        "    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f,\n"
        "    0x50, 0x3c, 0x9f, 0xa8, 0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5,\n"
        "    0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2, 0xcd, 0x0c, 0x13, 0xec,\n"
        "    0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,\n"
        "    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14,\n"
        "    0xde, 0x5e, 0x0b, 0xdb, 0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c,\n"
        "    0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79, 0xe7, 0xc8, 0x37, 0x6d,\n"
        "    0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,\n"
        "    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f,\n"
        "    0x4b, 0xbd, 0x8b, 0x8a, 0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e,\n"
        "    0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e, 0xe1, 0xf8, 0x98, 0x11,\n"
        "    0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,\n"
        "    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f,\n"
        "    0xb0, 0x54, 0xbb, 0x16]\n"
        "const RCON: u8[10] = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36]\n"
        "\n"
        "def xtime(b: u8) -> u8:\n"
        "    return (b << 1) ^ (0x1b if b >= 0x80 else 0)\n"
        "\n"
        "def main(key: u8[16] @alice, block: u8[16] @bob) -> (ct: u8[16] @both):\n"
        "    rk = [u8(0) for i in range(176)]\n"
        "    for i in range(16):\n"
        "        rk[i] = key[i]\n"
        "    for i in range(4, 44):\n"
        "        t = [rk[4 * (i - 1) + j] for j in range(4)]\n"
        "        if i % 4 == 0:\n"
        "            t = [SBOX[t[1]] ^ RCON[i / 4 - 1], SBOX[t[2]], SBOX[t[3]], SBOX[t[0]]]\n"
        "        for j in range(4):\n"
        "            rk[4 * i + j] = rk[4 * (i - 4) + j] ^ t[j]\n"
        "    s = [block[i] ^ rk[i] for i in range(16)]\n"
        "    for r in range(1, 11):\n"
        "        s = [SBOX[s[i]] for i in range(16)]\n"
        "        s = [s[((i / 4 + i % 4) % 4) * 4 + i % 4] for i in range(16)]\n"
        "        if r < 10:\n"
        "            m = [u8(0) for i in range(16)]\n"
        "            for c in range(4):\n"
        "                a0 = s[4 * c]\n"
        "                a1 = s[4 * c + 1]\n"
        "                a2 = s[4 * c + 2]\n"
        "                a3 = s[4 * c + 3]\n"
        "                m[4 * c] = xtime(a0) ^ xtime(a1) ^ a1 ^ a2 ^ a3\n"
        "                m[4 * c + 1] = a0 ^ xtime(a1) ^ xtime(a2) ^ a2 ^ a3\n"
        "                m[4 * c + 2] = a0 ^ a1 ^ xtime(a2) ^ xtime(a3) ^ a3\n"
        "                m[4 * c + 3] = xtime(a0) ^ a0 ^ a1 ^ a2 ^ xtime(a3)\n"
        "            s = m\n"
        "        s = [s[i] ^ rk[16 * r + i] for i in range(16)]\n"
        "    return s\n",
        59200, 70),
}


def main(argv=None) -> int:
    import argparse
    import json
    from yaogc.circuits.circuit import Op
    from yaogc.compiler import compile_source
    ap = argparse.ArgumentParser(description="AND counts of the naturally written programs, "
                                             "now and before the mechanisms that apply to them")
    ap.add_argument("--json", action="store_true", help="one JSON list of records")
    ap.add_argument("--quick", action="store_true", help="skip the largest program")
    args = ap.parse_args(argv)
    out = []
    for name, (what, src, former_and, former_depth) in NATURAL.items():
        if args.quick and former_and > 20000:
            continue
        c = compile_source(src, f"{name}.yao")
        ands = c.count(Op.AND)
        out.append({"name": name, "what": what, "and": ands, "and_depth": c.and_depth,
                    "former_and": former_and, "former_depth": former_depth,
                    "and_ratio": round(ands / former_and, 4) if former_and else None})
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        for r in out:
            print(f"{r['name']:>22}: {r['and']:>7} AND (was {r['former_and']}), depth "
                  f"{r['and_depth']} (was {r['former_depth']})  {r['what']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
