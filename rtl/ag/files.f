ag_cfg_regs.v
ag_key_store.v
ag_bound_table.v
ag_bs_lane.v
ag_key_issue.v
ag_out_arb.v
ag_score_top.v
