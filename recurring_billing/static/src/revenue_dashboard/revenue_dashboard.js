/** @odoo-module */

import { Component, onMounted, onWillStart, onWillUnmount, useRef, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";
import { formatFloat, formatMonetary } from "@web/views/fields/formatters";
import { Layout } from "@web/search/layout";

// Colours of the movement kinds, as the list view decorates them.
const KIND_COLORS = {
    new: "#28a745",
    expansion: "#17a2b8",
    reactivation: "#6f42c1",
    contraction: "#ffc107",
    churn: "#dc3545",
};

/**
 * The revenue dashboard: the headline figures and two charts, all from one
 * call (recurring.revenue.report.get_dashboard_data, SQL aggregates).
 */
export class RevenueDashboard extends Component {
    static template = "recurring_billing.RevenueDashboard";
    static components = { Layout };
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.notification = useService("notification");
        this.state = useState({ data: null });
        this.timelineRef = useRef("timeline");
        this.forecastRef = useRef("forecast");
        this.charts = [];
        this.kindLabels = {
            new: _t("New"),
            expansion: _t("Expansion"),
            reactivation: _t("Reactivation"),
            contraction: _t("Contraction"),
            churn: _t("Churn"),
        };
        onWillStart(async () => {
            await loadBundle("web.chartjs_lib");
            await this.load();
        });
        onMounted(() => this.renderCharts());
        onWillUnmount(() => this.destroyCharts());
    }

    async load() {
        this.state.data = await this.orm.call(
            "recurring.revenue.report",
            "get_dashboard_data",
            []
        );
    }

    money(value) {
        return formatMonetary(value, { currencyId: this.state.data.this_month.currency_id });
    }

    percent(value) {
        // The user's decimal separator, as the amounts beside it.
        return `${formatFloat(value, { digits: [16, 2] })} %`;
    }

    /** Chart.js formats its axes with Intl: the user's language too. */
    get chartLocale() {
        return (user.lang || "en_US").replace("_", "-");
    }

    dateTime(serverDateTime) {
        return formatDateTime(deserializeDateTime(serverDateTime));
    }

    monthLabel(isoDate) {
        const [year, month] = isoDate.split("-");
        return `${month}/${year}`;
    }

    destroyCharts() {
        for (const chart of this.charts) {
            chart.destroy();
        }
        this.charts = [];
    }

    renderCharts() {
        this.destroyCharts();
        const data = this.state.data;
        const timeline = data.timeline;
        const labels = timeline.map((row) => this.monthLabel(row.month));
        const datasets = Object.keys(KIND_COLORS).map((kind) => ({
            type: "bar",
            label: this.kindLabels[kind],
            data: timeline.map((row) => row[kind]),
            backgroundColor: KIND_COLORS[kind],
            stack: "kinds",
        }));
        datasets.push({
            type: "line",
            label: _t("MRR"),
            data: timeline.map((row) => row.mrr),
            borderColor: "#714B67",
            backgroundColor: "#714B67",
            yAxisID: "mrr",
        });
        this.charts.push(
            new window.Chart(this.timelineRef.el, {
                data: { labels, datasets },
                options: {
                    // Drawn at once: a figure, not a show (and a resize
                    // redraws it without starting again from zero).
                    animation: false,
                    maintainAspectRatio: false,
                    locale: this.chartLocale,
                    scales: {
                        x: { stacked: true },
                        y: { stacked: true, title: { display: true, text: _t("MRR change") } },
                        // From zero: a bar from 1,000 makes small MRR look
                        // like none.
                        mrr: {
                            position: "right",
                            beginAtZero: true,
                            title: { display: true, text: _t("MRR") },
                        },
                    },
                },
            })
        );
        this.charts.push(
            new window.Chart(this.forecastRef.el, {
                type: "bar",
                data: {
                    labels: data.forecast.map((row) => this.monthLabel(row.month)),
                    datasets: [
                        {
                            label: _t("Scheduled invoices (untaxed)"),
                            data: data.forecast.map((row) => row.amount),
                            backgroundColor: "#017e84",
                        },
                    ],
                },
                options: {
                    animation: false,
                    maintainAspectRatio: false,
                    locale: this.chartLocale,
                    scales: { y: { beginAtZero: true } },
                },
            })
        );
    }

    async onRefreshForecast() {
        await this.orm.call("recurring.forecast.line", "action_refresh", []);
        await this.load();
        this.renderCharts();
        this.notification.add(_t("Forecast refreshed from today's contracts."), {
            type: "success",
        });
    }

    openMovements() {
        this.action.doAction("recurring_billing.action_recurring_mrr_movement");
    }

    openForecast() {
        this.action.doAction("recurring_billing.action_recurring_forecast_line");
    }
}

registry.category("actions").add("recurring_billing.revenue_dashboard", RevenueDashboard);
