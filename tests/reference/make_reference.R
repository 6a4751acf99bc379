# Reference values for tests/test_stats.py, computed with R's metafor, lme4 and base R.
#
# Run from the repository root:   Rscript tests/reference/make_reference.R
# Writes tests/reference/r_reference.json. The tests only read that JSON; they never need R.
#
# For every data set:
#   * binom.test() exact CIs per report and for the crude pooled proportion;
#   * rma.glmm(measure = "PLO") with metafor's default nAGQ = 7 and with nAGQ = 1 (Laplace) and
#     nAGQ = 25 (the most lme4's glmer allows), plus predict(..., transf = transf.ilogit);
#   * an independent high-precision ML fit of the same binomial-normal model written here in base
#     R: the marginal likelihood is integrated with integrate() (rel.tol 1e-12), maximised with
#     nlminb() (tau >= 0), and the SE of mu comes from optimHess() on (mu, tau);
#   * rma(measure = "PLO", method = "DL" / "REML") and rma(measure = "PFT", ...) back-transformed
#     with predict(..., transf = transf.ipft.hm, targs = list(ni = ni)).

suppressPackageStartupMessages({
  library(metafor)
  library(lme4)
  library(jsonlite)
})

source("tests/reference/lv_gao2022.R")

datasets <- list(
  # (a) livedoid vasculopathy (LV), Gao & Jin 2022, Table 2 (tests/reference/lv_gao2022.R)
  lv = lv_gao2022,
  # (b) constructed: clear between-report heterogeneity (responses from 22 % to 100 %)
  hetero = data.frame(
    source = paste0("h", 1:8),
    year = c(2001, 2003, 2003, 2008, 2010, 2015, 2019, 2022),
    xi = c(3, 8, 15, 2, 20, 5, 9, 12),
    ni = c(10, 12, 20, 9, 25, 5, 30, 14),
    group = c("A", "A", "B", "A", "B", "B", "A", "B")
  ),
  # (c) constructed: one report with 0 events, two with all events
  zero = data.frame(
    source = paste0("z", 1:6),
    year = c(2005, 2007, 2009, 2012, 2016, 2020),
    xi = c(0, 3, 5, 1, 6, 2),
    ni = c(4, 7, 6, 10, 6, 3)
  )
)

num <- function(v) unname(as.numeric(v))

glmm_metafor <- function(d, nagq) {
  fit <- suppressWarnings(rma.glmm(measure = "PLO", xi = d$xi, ni = d$ni, nAGQ = nagq))
  pr <- predict(fit, transf = transf.ilogit)
  list(
    call = sprintf("rma.glmm(measure = \"PLO\", xi = xi, ni = ni, nAGQ = %d)", nagq),
    mu = num(fit$beta), se = num(fit$se), ci_low_logit = num(fit$ci.lb), ci_high_logit = num(fit$ci.ub),
    estimate = num(pr$pred), ci_low = num(pr$ci.lb), ci_high = num(pr$ci.ub),
    pi_low = num(pr$pi.lb), pi_high = num(pr$pi.ub),
    tau2 = num(fit$tau2), i2 = num(fit$I2) / 100, loglik = num(logLik(fit))
  )
}

# Independent high-precision ML fit of the binomial-normal model (no Laplace / AGQ approximation).
glmm_integrate <- function(d) {
  ll_i <- function(mu, tau, x, n) {
    f <- function(z) dbinom(x, n, plogis(mu + tau * z)) * dnorm(z)
    log(integrate(f, -Inf, Inf, rel.tol = 1e-12, abs.tol = 0, subdivisions = 1000L)$value)
  }
  ll <- function(par) sum(mapply(ll_i, x = d$xi, n = d$ni, MoreArgs = list(mu = par[1], tau = par[2])))
  start <- c(qlogis((sum(d$xi) + 0.5) / (sum(d$ni) + 1)), 0.5)
  opt <- nlminb(start, function(p) -ll(p), lower = c(-Inf, 0), upper = c(Inf, 20),
                control = list(rel.tol = 1e-14, x.tol = 1e-12, eval.max = 2000, iter.max = 1000))
  # polish: the log-likelihood is even in tau, so tau = 0 is the boundary candidate
  opt0 <- optimize(function(m) -ll(c(m, 0)), interval = opt$par[1] + c(-3, 3), tol = 1e-12)
  if (opt0$objective <= opt$objective + 1e-10) {
    par <- c(opt0$minimum, 0)
    se <- sqrt(1 / optimHess(par[1], function(m) -ll(c(m, 0))))
  } else {
    par <- opt$par
    se <- sqrt(solve(optimHess(par, function(p) -ll(p)))[1, 1])
  }
  se <- num(se); mu <- par[1]; tau2 <- par[2]^2; z <- qnorm(0.975)
  list(
    call = "base R: integrate() marginal likelihood, nlminb() ML with tau >= 0, optimHess() SE",
    mu = num(mu), se = num(se), tau2 = num(tau2), loglik = num(ll(par)),
    estimate = plogis(mu), ci_low = plogis(mu - z * se), ci_high = plogis(mu + z * se),
    pi_low = plogis(mu - z * sqrt(se^2 + tau2)), pi_high = plogis(mu + z * sqrt(se^2 + tau2))
  )
}

iv <- function(d, measure, method) {
  fit <- rma(measure = measure, xi = d$xi, ni = d$ni, method = method)
  pr <- if (measure == "PLO") {
    predict(fit, transf = transf.ilogit)
  } else {
    predict(fit, transf = transf.ipft.hm, targs = list(ni = d$ni))
  }
  list(
    call = sprintf("rma(measure = \"%s\", xi = xi, ni = ni, method = \"%s\")", measure, method),
    mu = num(fit$beta), se = num(fit$se), tau2 = num(fit$tau2), i2 = num(fit$I2) / 100,
    QE = num(fit$QE),
    estimate = num(pr$pred), ci_low = num(pr$ci.lb), ci_high = num(pr$ci.ub),
    pi_low = num(pr$pi.lb), pi_high = num(pr$pi.ub)
  )
}

exact <- function(x, n) {
  ci <- binom.test(x, n)$conf.int
  list(events = x, n = n, ci_low = num(ci[1]), ci_high = num(ci[2]))
}

out <- list(
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  lme4_version = as.character(packageVersion("lme4")),
  generated_by = "tests/reference/make_reference.R",
  datasets = list()
)

for (name in names(datasets)) {
  d <- datasets[[name]]
  res <- list(
    data = list(source = d$source, year = d$year, events = d$xi, n = d$ni),
    exact = unname(mapply(exact, d$xi, d$ni, SIMPLIFY = FALSE)),
    crude_exact = exact(sum(d$xi), sum(d$ni)),
    glmm_nagq7_default = glmm_metafor(d, 7),
    glmm_nagq1_laplace = glmm_metafor(d, 1),
    glmm_nagq25 = glmm_metafor(d, 25),
    glmm_integrate = glmm_integrate(d),
    plo_dl = iv(d, "PLO", "DL"),
    plo_reml = iv(d, "PLO", "REML"),
    pft_dl = iv(d, "PFT", "DL"),
    pft_reml = iv(d, "PFT", "REML")
  )
  if (!is.null(d$group)) {
    # subgroup test: likelihood-ratio test of the subgroup covariate, ML fits (nAGQ = 25)
    d$study <- factor(seq_len(nrow(d)))
    m0 <- glmer(cbind(xi, ni - xi) ~ 1 + (1 | study), data = d, family = binomial, nAGQ = 25)
    m1 <- glmer(cbind(xi, ni - xi) ~ group + (1 | study), data = d, family = binomial, nAGQ = 25)
    lrt <- anova(m0, m1)
    res$group <- d$group
    res$subgroup_lrt_nagq25 <- list(
      call = "anova(glmer(cbind(xi, ni - xi) ~ 1 + (1 | study), nAGQ = 25), glmer(... ~ group + (1 | study), nAGQ = 25))",
      statistic = num(lrt$Chisq[2]), df = num(lrt$Df[2]), p_value = num(lrt[["Pr(>Chisq)"]][2]),
      loglik_null = num(logLik(m0)), loglik_full = num(logLik(m1))
    )
  }
  out$datasets[[name]] <- res
}

writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/r_reference.json")
cat("wrote tests/reference/r_reference.json with", R.version.string, "\n")
