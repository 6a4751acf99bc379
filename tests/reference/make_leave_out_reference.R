# Reference values for the leave-out sensitivity analyses in tests/test_appraisal.py.
#
# Run from the repository root:   Rscript tests/reference/make_leave_out_reference.R
# Writes tests/reference/r_leave_out.json. The tests only read that JSON; they never need R.
#
# Data: the livedoid vasculopathy reports of Gao & Jin 2022, Table 2 (responders / patients per primary
# report, tests/reference/lv_gao2022.R, shared with make_reference.R), with the flags each leave-out analysis uses, as recorded in
# data/appraisal.csv (overall, immunosuppression) and data/cases.csv (extraction_level) on 2026-11-23.
# For each analysis the reports flagged are left out and the rest refitted with
#   rma.glmm(measure = "PLO", xi = xi, ni = ni, nAGQ = 25)   then predict(fit, transf = transf.ilogit);
# where every remaining report has all patients responding the model has no finite estimate, and the
# exact interval of the added-up counts (binom.test) is recorded instead.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

source("tests/reference/lv_gao2022.R")
lv <- lv_gao2022
lv$extraction_level <- "secondary_source"
lv$overall <- c("high", "high", "moderate", "high", "high", "high", "high", "high", "high", "high", "high",
                "high", "high", "high", "moderate", "high", "high")
lv$immunosuppression <- c("yes", "unclear", "no", "no", "yes", "unclear", "no", "yes", "no", "unclear", "no",
                          "no", "no", "yes", "unclear", "no", "unclear")

num <- function(v) unname(as.numeric(v))

leave_outs <- list(
  single_patient = lv$ni == 1,
  abstract_only = lv$extraction_level == "abstract",
  high_risk = lv$overall == "high",
  immunosuppression = lv$immunosuppression == "yes"
)

fit_subset <- function(d) {
  if (all(d$xi == d$ni)) {
    ci <- binom.test(sum(d$xi), sum(d$ni))$conf.int
    return(list(call = "binom.test(sum(xi), sum(ni)) (every report 100 %: no finite GLMM estimate)",
                k = nrow(d), finite = FALSE, estimate = sum(d$xi) / sum(d$ni),
                ci_low = num(ci[1]), ci_high = num(ci[2])))
  }
  fit <- suppressWarnings(rma.glmm(measure = "PLO", xi = d$xi, ni = d$ni, nAGQ = 25))
  pr <- predict(fit, transf = transf.ilogit)
  list(call = "rma.glmm(measure = \"PLO\", xi = xi, ni = ni, nAGQ = 25)", k = nrow(d), finite = TRUE,
       estimate = num(pr$pred), ci_low = num(pr$ci.lb), ci_high = num(pr$ci.ub), tau2 = num(fit$tau2))
}

fits <- lapply(leave_outs, function(flag) {
  res <- fit_subset(lv[!flag, ])
  res$left_out <- I(lv$source[flag])
  res
})

out <- list(
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  generated_by = "tests/reference/make_leave_out_reference.R",
  data = list(source = lv$source, year = lv$year, events = lv$xi, n = lv$ni,
              extraction_level = lv$extraction_level, overall = lv$overall,
              immunosuppression = lv$immunosuppression),
  primary = fit_subset(lv),
  fits = fits
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/r_leave_out.json")
cat("wrote tests/reference/r_leave_out.json with", R.version.string, "\n")
