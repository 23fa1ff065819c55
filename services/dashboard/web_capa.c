/* web_capa: the case page's CAPA records in plain words — the latest Choice appointment (the
 * family's story, the honest opinion, the formulation reached together, the alternatives and
 * the family's choice) and who works on a CAPA partnership plan (see web_internal.h). */
#include "web_internal.h"
#include "casework/capa.h"

static void s_item(dashboard_buf_t *b, const char *label, const char *text)
{
    if (!text || !*text)
        return;
    dashboard_buf_printf(b, "<dt>%s</dt><dd>", label);
    dashboard_web_text(b, text);
    dashboard_buf_puts(b, "</dd>");
}

void dashboard_web_capa_choice(dashboard_buf_t *b, const Tacnet__CaseState *st)
{
    const Tacnet__CapaChoiceView *v = st ? st->capa_choice : NULL;
    if (!v || !v->record)
        return;
    const Tacnet__CapaChoice *c = v->record;
    dashboard_buf_printf(b, "<h3>Choice appointment with %s</h3><p>Held ",
                         dashboard_web_agency_title(v->by));
    dashboard_web_date(b, v->has_completed_date ? v->completed_date : 0);
    const char *chosen = c->has_chosen ? capa_chosen_words(c->chosen) : NULL;
    dashboard_buf_puts(b, ". The family chose ");
    dashboard_web_text(b, chosen ? chosen : "nothing yet");
    dashboard_buf_puts(b, ".</p><dl>");
    s_item(b, "Their story", c->curious);
    s_item(b, "Our honest opinion", c->honest_opinion);
    s_item(b, "What we understood together", c->joint_formulation);
    if (c->n_alternatives) {
        dashboard_buf_puts(b, "<dt>Alternatives offered</dt><dd><ul>");
        for (size_t i = 0; i < c->n_alternatives; i++) {
            dashboard_buf_puts(b, "<li>");
            dashboard_web_text(b, c->alternatives[i]);
            dashboard_buf_puts(b, "</li>");
        }
        dashboard_buf_puts(b, "</ul></dd>");
    }
    s_item(b, "Before partnership, the family will", c->engagement);
    dashboard_buf_puts(b, "</dl>");
}

static void s_worker(dashboard_buf_t *b, const char *label, const Tacnet__CapaWorker *w)
{
    dashboard_buf_printf(b, "<li>%s: ", label);
    dashboard_web_bytes(b, w->initials);
    if (w->role) {
        dashboard_buf_puts(b, ", ");
        dashboard_web_text(b, w->role);
    }
    if (w->brings) {
        dashboard_buf_puts(b, ", who brings ");
        dashboard_web_text(b, w->brings);
    }
    dashboard_buf_puts(b, "</li>");
}

void dashboard_web_capa_workers(dashboard_buf_t *b, const Tacnet__CarePlan *p)
{
    if (!p || (!p->core_worker && !p->n_specific_workers))
        return;
    dashboard_buf_puts(b, "<p>Who works on this plan:</p><ul>");
    if (p->core_worker)
        s_worker(b, "Core worker (holds the plan)", p->core_worker);
    for (size_t i = 0; i < p->n_specific_workers; i++)
        s_worker(b, "Specific worker", p->specific_workers[i]);
    dashboard_buf_puts(b, "</ul>");
}
