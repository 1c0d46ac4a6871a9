/* Writes the sk1 test vectors: for each, NAME.bin (wire bytes from the reference
 * encoder) and NAME.json (the values encoded and what a decoder must count).
 * Usage: make_vectors OUTDIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sk1.h"

static FILE *bin, *json;
static sk1_encoder enc;
static int n_frames_json;
static uint32_t now_us;

static void begin(const char *dir, const char *name, uint16_t first_seq) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    bin = fopen(path, "wb");
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    json = fopen(path, "w");
    if (!bin || !json) { perror(path); exit(1); }
    enc.seq = first_seq;
    n_frames_json = 0;
    fprintf(json, "{\n  \"name\": \"%s\",\n  \"frames\": [", name);
}

static void end(int frames, int crc_errors, int lost) {
    fprintf(json, "\n  ],\n  \"stats\": {\"frames\": %d, \"crc_errors\": %d, \"lost_packets\": %d}\n}\n",
            frames, crc_errors, lost);
    fclose(bin);
    fclose(json);
}

/* Encode a frame; write it to the .bin (with one byte flipped if corrupt >= 0) and, when
 * expected, describe it in the .json with the content written by describe(). */
static void emit(uint8_t type, const uint8_t *body, size_t len, int expected, int corrupt,
                 void (*describe)(const void *), const void *arg) {
    uint8_t wire[SK1_MAX_WIRE];
    uint16_t seq = enc.seq;
    size_t n = sk1_frame(&enc, type, now_us, body, len, wire);
    if (n == 0) { fprintf(stderr, "frame too long\n"); exit(1); }
    if (corrupt >= 0) wire[corrupt] ^= 0x5A; /* stays non-zero for the bytes chosen */
    fwrite(wire, 1, n, bin);
    if (expected) {
        fprintf(json, "%s\n    {\"type\": %d, \"seq\": %u, \"device_time_us\": %u, \"content\": ",
                n_frames_json++ ? "," : "", type, seq, now_us);
        describe(arg);
        fprintf(json, "}");
    }
    now_us += 2000;
}

static void skip_seq(void) { enc.seq++; now_us += 2000; }

/* ------------------------------------------------------------- contents */

typedef struct { uint8_t sid, fmt, nch, ns; uint32_t first; int32_t v[256]; } block;

static void describe_block(const void *p) {
    const block *b = p;
    fprintf(json, "{\"stream_id\": %u, \"format\": %u, \"first_index\": %u, \"values\": [",
            b->sid, b->fmt, b->first);
    for (int i = 0; i < b->ns; i++) {
        fprintf(json, "%s[", i ? ", " : "");
        for (int c = 0; c < b->nch; c++) fprintf(json, "%s%d", c ? ", " : "", b->v[i * b->nch + c]);
        fprintf(json, "]");
    }
    fprintf(json, "]}");
}

static void fill_block(block *b, uint8_t sid, uint8_t fmt, uint8_t nch, uint8_t ns, uint32_t first) {
    b->sid = sid; b->fmt = fmt; b->nch = nch; b->ns = ns; b->first = first;
    for (int i = 0; i < ns; i++)
        for (int c = 0; c < nch; c++) {
            long k = (long)(first + i) * 7919L + c * 104729L;
            b->v[i * nch + c] = fmt == SK1_INT24 ? (int32_t)(k % 16777216L) - 8388608
                                                 : (int32_t)(k % 65536L) - 32768;
        }
    /* extremes and values around zero, where sign handling breaks */
    int32_t lo = fmt == SK1_INT24 ? -8388608 : -32768, hi = fmt == SK1_INT24 ? 8388607 : 32767;
    b->v[0] = lo; b->v[1] = hi; b->v[2] = 0; b->v[3] = -1;
}

static void emit_block(uint8_t type, const block *b, int expected, int corrupt) {
    uint8_t body[SK1_MAX_BODY];
    size_t n = sk1_block_body(b->sid, b->fmt, b->nch, b->ns, b->first, b->v, body);
    if (n == 0) { fprintf(stderr, "block too long\n"); exit(1); }
    emit(type, body, n, expected, corrupt, describe_block, b);
}

typedef struct { uint8_t sid, kind, fmt, nch; float rate; const char *name; uint8_t first, count;
                 const sk1_channel *ch; } stream_info;

static void describe_stream_info(const void *p) {
    const stream_info *s = p;
    fprintf(json, "{\"stream_id\": %u, \"kind\": %u, \"format\": %u, \"n_channels\": %u, "
            "\"rate\": %.9g, \"name\": \"%s\", \"first_channel\": %u, \"channels\": [",
            s->sid, s->kind, s->fmt, s->nch, s->rate, s->name, s->first);
    for (int i = 0; i < s->count; i++) {
        const sk1_channel *c = &s->ch[s->first + i];
        fprintf(json, "%s{\"label\": \"%s\", \"unit\": %u, \"scale\": %.9g}", i ? ", " : "",
                c->label, c->unit, c->scale);
    }
    fprintf(json, "]}");
}

/* Describe a whole stream in as many STREAM_INFO frames as it needs. */
static void emit_stream_info(stream_info s) {
    uint8_t body[SK1_MAX_BODY];
    uint8_t first = 0;
    while (first < s.nch) {
        uint8_t count = (uint8_t)(s.nch - first);
        size_t n;
        while ((n = sk1_stream_info_body(s.sid, s.kind, s.fmt, s.nch, s.rate, s.name, first, count,
                                         s.ch, body)) == 0) count--;
        s.first = first;
        s.count = count;
        emit(SK1_STREAM_INFO, body, n, 1, -1, describe_stream_info, &s);
        first = (uint8_t)(first + count);
    }
}

static void describe_device_info(const void *p) {
    (void)p;
    fprintf(json, "{\"n_streams\": 2, \"serial\": %u, \"firmware\": [1, 2, 3], \"name\": \"sk1-ref\"}",
            0xC0FFEEu);
}

typedef struct { uint8_t pct; uint16_t mv; uint8_t flags; uint32_t lead_off, sat; } status;

static void describe_status(const void *p) {
    const status *s = p;
    fprintf(json, "{\"battery_percent\": %u, \"battery_mv\": %u, \"flags\": %u, \"lead_off\": %u, "
            "\"saturation\": %u}", s->pct, s->mv, s->flags, s->lead_off, s->sat);
}

typedef struct { uint8_t source, code; const char *text; } marker;

static void describe_marker(const void *p) {
    const marker *m = p;
    fprintf(json, "{\"source\": %u, \"code\": %u, \"text\": \"%s\"}", m->source, m->code, m->text);
}

static void emit_marker(marker m) {
    uint8_t body[SK1_MAX_BODY];
    emit(SK1_MARKER, body, sk1_marker_body(m.source, m.code, m.text, body), 1, -1, describe_marker, &m);
}

static void describe_command(const void *p) {
    (void)p;
    fprintf(json, "{\"command\": 4, \"args\": [232, 3]}");
}

/* ------------------------------------------------------------- vectors */

static const char *emg_labels[16] = {
    "glute_max_L", "glute_max_R", "glute_med_L", "glute_med_R", "biceps_femoris_L",
    "biceps_femoris_R", "semitendinosus_L", "semitendinosus_R", "erector_spinae_L",
    "erector_spinae_R", "tfl_L", "tfl_R", "rectus_femoris_L", "rectus_femoris_R",
    "vastus_lateralis_L", "vastus_lateralis_R"};

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s OUTDIR\n", argv[0]); return 2; }
    const char *dir = argv[1];
    uint8_t body[SK1_MAX_BODY];
    block b;

    /* ADS1299 at gain 24: 4.5 V / 24 / 2^23 per LSB */
    sk1_channel emg[16];
    for (int i = 0; i < 16; i++) emg[i] = (sk1_channel){emg_labels[i], 4.5f / 24.0f / 8388608.0f, SK1_UNIT_V};
    const char *imu_labels[9] = {"acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z", "mag_x", "mag_y", "mag_z"};
    sk1_channel imu[9];
    for (int i = 0; i < 9; i++) {
        float scale = i < 3 ? 16.0f * 9.80665f / 32768.0f
                    : i < 6 ? 2000.0f * 3.14159265f / 180.0f / 32768.0f : 4900e-6f / 32768.0f;
        imu[i] = (sk1_channel){imu_labels[i], scale, (uint8_t)(i < 3 ? SK1_UNIT_MS2 : i < 6 ? SK1_UNIT_RADS : SK1_UNIT_T)};
    }

    now_us = 1000000;
    begin(dir, "device_info", 0);
    const uint8_t fw[3] = {1, 2, 3};
    emit(SK1_DEVICE_INFO, body, sk1_device_info_body(2, 0xC0FFEE, fw, "sk1-ref", body), 1, -1,
         describe_device_info, NULL);
    end(1, 0, 0);

    begin(dir, "stream_info", 0);
    emit_stream_info((stream_info){0, SK1_KIND_EMG, SK1_INT24, 16, 2000.0f, "emg", 0, 0, emg});
    emit_stream_info((stream_info){1, SK1_KIND_IMU, SK1_INT16, 9, 200.0f, "pelvis", 0, 0, imu});
    end(3, 0, 0);

    begin(dir, "emg_block_int24", 100);
    for (int k = 0; k < 3; k++) { fill_block(&b, 0, SK1_INT24, 16, 4, 4u * k); emit_block(SK1_EMG_BLOCK, &b, 1, -1); }
    end(3, 0, 0);

    begin(dir, "emg_block_int16", 7);
    fill_block(&b, 2, SK1_INT16, 8, 13, 123456); emit_block(SK1_EMG_BLOCK, &b, 1, -1);
    end(1, 0, 0);

    begin(dir, "imu_block", 0);
    fill_block(&b, 1, SK1_INT16, 6, 10, 0); emit_block(SK1_IMU_BLOCK, &b, 1, -1);
    fill_block(&b, 3, SK1_INT16, 9, 10, 4000000000u); emit_block(SK1_IMU_BLOCK, &b, 1, -1);
    end(2, 0, 0);

    begin(dir, "status", 0);
    status st = {87, 3912, 0x03, 0x00000005, 0x80000000u};
    emit(SK1_STATUS, body, sk1_status_body(st.pct, st.mv, st.flags, st.lead_off, st.sat, body), 1, -1,
         describe_status, &st);
    end(1, 0, 0);

    begin(dir, "marker", 0);
    emit_marker((marker){0, 1, ""});
    emit_marker((marker){1, 0, "exercise_start:single_leg_squat:L"});
    emit_marker((marker){1, 0, "annotation:knee valgus, rep 3"});
    end(3, 0, 0);

    begin(dir, "command", 0);
    const uint8_t args[2] = {0xE8, 0x03}; /* 1000 ms */
    emit(SK1_COMMAND, body, sk1_command_body(4, args, 2, body), 1, -1, describe_command, NULL);
    end(1, 0, 0);

    /* third of five frames has a data byte flipped: 4 frames, 1 CRC error, 1 lost */
    begin(dir, "corrupted_frame", 500);
    for (int k = 0; k < 5; k++) {
        fill_block(&b, 0, SK1_INT24, 16, 4, 4u * k);
        emit_block(SK1_EMG_BLOCK, &b, k != 2, k == 2 ? 60 : -1);
    }
    end(4, 1, 1);

    /* frame with sequence 12 never sent: 1 lost packet */
    begin(dir, "lost_packet", 10);
    for (int k = 0; k < 5; k++) {
        fill_block(&b, 1, SK1_INT16, 6, 10, 10u * k);
        if (k == 2) skip_seq(); else emit_block(SK1_IMU_BLOCK, &b, 1, -1);
    }
    end(4, 0, 1);

    /* 65534, 65535, 0, 1 are contiguous; then 2 is missing before 3 */
    begin(dir, "sequence_wrap", 65534);
    for (int k = 0; k < 6; k++) {
        fill_block(&b, 0, SK1_INT24, 8, 9, 9u * k);
        if (k == 4) skip_seq(); else emit_block(SK1_EMG_BLOCK, &b, 1, -1);
    }
    end(5, 0, 1);
    return 0;
}
