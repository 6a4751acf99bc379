# Livedoid vasculopathy (LV), Gao & Jin 2022, Table 2: responders (xi) / patients (ni) per primary report.
# Shared by make_reference.R and make_leave_out_reference.R (run from the repository root).
lv_gao2022 <- data.frame(
  source = c("levy1999", "amital2000", "ravat2002", "schanz2003", "kreuter2004", "pitarch2005",
             "tuchinda2011", "bounfour2013", "monshi2014", "kim2015", "vieira2016", "yoshioka2018",
             "ozden2020", "scarpone2020", "dinescu2020", "kofler2021", "takahagi2021"),
  year = c(1999, 2000, 2002, 2003, 2004, 2005, 2011, 2013, 2014, 2015, 2016, 2018, 2020, 2020, 2020,
           2021, 2021),
  xi = c(2, 1, 2, 1, 8, 1, 1, 4, 10, 7, 1, 1, 9, 2, 1, 24, 1),
  ni = c(2, 1, 2, 1, 9, 1, 1, 5, 11, 7, 1, 1, 9, 2, 1, 25, 1),
  stringsAsFactors = FALSE
)
