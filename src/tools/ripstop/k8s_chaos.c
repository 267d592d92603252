/* SPDX-License-Identifier: MIT */
/* `ripstop k8s-chaos --scenario FILE`: the scenario's chaos actions as one
 * Chaos Mesh Workflow, so the same scenario.yaml describes the experiment on
 * one machine (`ripstop demo`) and on a cluster (deploy/k8s). Each action
 * becomes a Serial branch "wait until start, then the fault" of one Parallel
 * entry, so every fault starts at its scenario time after the Workflow is
 * created (apply it with the load Job: t = 0 is the load's start).
 *
 *   kafka-latency  NetworkChaos delay (latency, jitter) from the pods of --latency-from to the Kafka pods
 *   kafka-down     NetworkChaos partition, same pods
 *   kill           PodChaos container-kill of the target's container (the app, or daprd for a sidecar)
 *                  in one pod of its Deployment; kubelet restarts it, as the local runner restarts a process
 *                  (alignEvery / whenHolding: not rendered, a note on stderr says so)
 *   http           no Chaos Mesh equivalent: an error */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tools/ripstop/scenario.h"

int rs_cmd_k8s_chaos(int argc, char **argv);

struct where {
    const char *ns;           /* the order system's namespace */
    const char *kafka_ns;     /* the Kafka pods' namespace */
    const char *kafka_label;  /* "key: value" selecting the Kafka pods */
    const char *latency_from; /* the app whose traffic to Kafka is delayed */
};

/* A template name: the action's name in lower case, other characters as '-' (DNS-1123). */
static void tname(char *out, size_t len, const char *name, const char *suffix) {
    size_t o = 0;
    for (const char *p = name; *p && o + 1 < len; p++)
        out[o++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
    out[o] = '\0';
    if (suffix) snprintf(out + o, len - o, "-%s", suffix);
}

static void selector(FILE *f, const char *indent, const char *ns, const char *label) {
    fprintf(f, "%sselector:\n%s  namespaces: [%s]\n%s  labelSelectors:\n%s    %s\n", indent, indent, ns, indent, indent,
            label);
}

static void fault(FILE *f, const rs_action_t *a, const struct where *w, const char *name) {
    char app_label[96], kafka_label[160];
    snprintf(app_label, sizeof app_label, "app: %s", w->latency_from);
    snprintf(kafka_label, sizeof kafka_label, "%s", w->kafka_label);
    fprintf(f, "  - name: %s\n    templateType: NetworkChaos\n    deadline: %llds\n    networkChaos:\n", name,
            (long long)((a->stop_ms - a->start_ms + 999) / 1000));
    fprintf(f, "      action: %s\n      mode: all\n", a->type == RS_ACT_KAFKA_LATENCY ? "delay" : "partition");
    selector(f, "      ", w->ns, app_label);
    fprintf(f, "      direction: to\n      target:\n        mode: all\n");
    selector(f, "        ", w->kafka_ns, kafka_label);
    if (a->type == RS_ACT_KAFKA_LATENCY)
        fprintf(f, "      delay:\n        latency: %lldms\n        jitter: %lldms\n", (long long)a->latency_ms,
                (long long)a->jitter_ms);
}

static void kill_one(FILE *f, const rs_kill_target_t *k, const struct where *w, const char *name) {
    char label[96];
    snprintf(label, sizeof label, "app: %s", k->app);
    fprintf(f, "  - name: %s\n    templateType: PodChaos\n    deadline: 5s\n    podChaos:\n", name);
    fprintf(f, "      action: container-kill\n      mode: one\n");
    selector(f, "      ", w->ns, label);
    fprintf(f, "      containerNames: [%s]\n", k->sidecar ? "daprd" : k->app);
}

static int render(FILE *f, const rs_scenario_t *s, const struct where *w, const char *path) {
    for (int i = 0; i < s->nactions; i++)
        if (s->actions[i].type == RS_ACT_HTTP) {
            fprintf(stderr, "ripstop k8s-chaos: %s: action '%s' (type http) has no Chaos Mesh equivalent\n", path,
                    s->actions[i].name);
            return -1;
        }
    /* Waits that need the demo's view of the processes and the wall clock: said, not dropped silently. */
    for (int i = 0; i < s->nactions; i++)
        if (s->actions[i].type == RS_ACT_KILL && (s->actions[i].align_every_ms > 0 || s->actions[i].hold_within_ms > 0))
            fprintf(stderr, "ripstop k8s-chaos: %s: action '%s': alignEvery/whenHolding have no Chaos Mesh "
                            "equivalent; the kill comes at its start\n", path, s->actions[i].name);
    char wf[80];
    tname(wf, sizeof wf, s->name, NULL);
    int64_t end = rs_scenario_end_ms(s);
    fprintf(f,
            "# Chaos Mesh Workflow rendered by `ripstop k8s-chaos` from %s (scenario %s).\n"
            "# Apply it together with the load Job (t = 0 of the scenario is when both start).\n",
            path, s->name);
    fprintf(f, "apiVersion: chaos-mesh.org/v1alpha1\nkind: Workflow\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n",
            wf, w->ns);
    fprintf(f, "  entry: experiment\n  templates:\n  - name: experiment\n    templateType: Parallel\n");
    fprintf(f, "    deadline: %llds\n    children:\n", (long long)(end / 1000 + 30));
    char n[96], n2[96];
    for (int i = 0; i < s->nactions; i++) {
        tname(n, sizeof n, s->actions[i].name, NULL);
        fprintf(f, "    - %s\n", n);
    }
    for (int i = 0; i < s->nactions; i++) {
        const rs_action_t *a = &s->actions[i];
        tname(n, sizeof n, a->name, NULL);
        fprintf(f, "  - name: %s\n    templateType: Serial\n    children:\n", n);
        if (a->start_ms > 0) fprintf(f, "    - %s-wait\n", n);
        fprintf(f, "    - %s-%s\n", n, a->type == RS_ACT_KILL ? "kills" : "fault");
        if (a->start_ms > 0)
            fprintf(f, "  - name: %s-wait\n    templateType: Suspend\n    deadline: %lldms\n", n, (long long)a->start_ms);
        if (a->type != RS_ACT_KILL) {
            tname(n2, sizeof n2, a->name, "fault");
            fault(f, a, w, n2);
            continue;
        }
        fprintf(f, "  - name: %s-kills\n    templateType: Parallel\n    children:\n", n);
        for (int k = 0; k < a->nkills; k++) fprintf(f, "    - %s-kill-%d\n", n, k + 1);
        for (int k = 0; k < a->nkills; k++) {
            char suffix[32];
            snprintf(suffix, sizeof suffix, "kill-%d", k + 1);
            tname(n2, sizeof n2, a->name, suffix);
            kill_one(f, &a->kills[k], w, n2);
        }
    }
    return 0;
}

static void usage(FILE *o) {
    fprintf(o, "usage: ripstop k8s-chaos --scenario SCENARIO.yaml [--quick] [--out FILE] [--namespace NS]\n"
               "                         [--kafka-namespace NS] [--kafka-label 'KEY: VALUE'] [--latency-from APP]\n"
               "  Renders the scenario's chaos actions as a Chaos Mesh Workflow (YAML on stdout or FILE):\n"
               "  kafka-latency/kafka-down as NetworkChaos from APP's pods (customer-order-service) to the Kafka\n"
               "  pods (namespace kafka, 'app.kubernetes.io/name: kafka'), kills as PodChaos container-kill in\n"
               "  NS (dapr-resiliency), each at its scenario time after the Workflow is created.\n");
}

int rs_cmd_k8s_chaos(int argc, char **argv) {
    const char *scenario = NULL, *out = NULL;
    int quick = 0;
    struct where w = {"dapr-resiliency", "kafka", "app.kubernetes.io/name: kafka", "customer-order-service"};
    static const struct option opts[] = {{"scenario", required_argument, 0, 's'}, {"quick", no_argument, 0, 'q'},
                                         {"out", required_argument, 0, 'o'},      {"namespace", required_argument, 0, 'n'},
                                         {"kafka-namespace", required_argument, 0, 'k'},
                                         {"kafka-label", required_argument, 0, 'l'},
                                         {"latency-from", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "s:o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 's': scenario = optarg; break;
        case 'q': quick = 1; break;
        case 'o': out = optarg; break;
        case 'n': w.ns = optarg; break;
        case 'k': w.kafka_ns = optarg; break;
        case 'l': w.kafka_label = optarg; break;
        case 'f': w.latency_from = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!scenario) {
        fprintf(stderr, "ripstop k8s-chaos: which scenario? (--scenario deploy/local/scenario.yaml)\n");
        return 2;
    }
    if (!strchr(w.kafka_label, ':')) {
        fprintf(stderr, "ripstop k8s-chaos: --kafka-label wants 'KEY: VALUE'\n");
        return 2;
    }
    rs_scenario_t s;
    char err[512];
    if (rs_scenario_load(scenario, quick, &s, err, sizeof err) != 0) {
        fprintf(stderr, "ripstop k8s-chaos: %s\n", err);
        return 2;
    }
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "ripstop k8s-chaos: cannot write %s\n", out);
        rs_scenario_free(&s);
        return 2;
    }
    int rc = render(f, &s, &w, scenario) == 0 ? 0 : 2;
    if (out && fclose(f) != 0) rc = 2;
    rs_scenario_free(&s);
    return rc;
}
