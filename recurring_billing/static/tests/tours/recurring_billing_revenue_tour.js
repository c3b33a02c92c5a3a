/** @odoo-module */

import { registry } from "@web/core/registry";

// The revenue dashboard: headline figures, both charts, the forecast
// refreshed from it, then the MRR movements report it links to.
registry.category("web_tour.tours").add("recurring_billing_revenue_tour", {
    url: "/odoo/action-recurring_billing.action_recurring_revenue_dashboard",
    steps: () => [
        {
            content: "The MRR of the running contract is the headline",
            trigger: ".o_rb_kpi_mrr:contains(123.45)",
        },
        {
            content: "One active contract",
            trigger: ".o_rb_kpi_contracts:contains(1)",
        },
        {
            content: "The MRR timeline is drawn",
            trigger: "canvas.o_rb_chart_timeline",
        },
        {
            content: "Refresh the forecast",
            trigger: "button.o_rb_refresh_forecast",
            run: "click",
        },
        {
            content: "The refresh says it is done, and when",
            trigger: ".o_notification:contains(Forecast refreshed)",
        },
        {
            trigger: ".o_rb_forecast_refreshed:contains(Refreshed on)",
        },
        {
            trigger: "canvas.o_rb_chart_forecast",
        },
        {
            content: "Open the MRR movements",
            trigger: "button.o_rb_open_movements",
            run: "click",
        },
        {
            content: "The movements report opens on its graph",
            trigger: ".o_graph_view",
        },
    ],
});
