"""What each figure family shows, in one sentence a reader can check: the report's captions
and alt text (:mod:`lasso_torch.report`)."""

CAPTIONS = {
    "trajectories": "Each coefficient against the iteration, one column per solver; the "
    "bottom row zooms on the coefficients that are 0 in the solution. Look for curves that "
    "land on the zero line and stay (circles: exact zeros) against curves that keep "
    "crossing it.",
    "convergence": "Relative duality gap (or KKT violation) and P - P* against iterations "
    "and time, on log axes; triangles on the dashed floor line are exactly 0 or below "
    "rounding. Look for which solvers reach the dotted tolerance line, and how fast.",
    "sparsity": "The number of coefficients exactly 0.0 against the iteration; the dashed "
    "line is the solution's count. Look for solvers that reach it and stay, and those that "
    "never leave 0 zeros.",
    "paths": "Coefficients against alpha (log axis), nonzero counts on the top axis. Look "
    "for features leaving the model one by one as alpha grows, exactly 0 beyond their "
    "entry point, against the dashed comparison path.",
    "geometry": "The RSS contours around OLS meeting the L1 diamond (left) and the L2 disk "
    "(right). Look for the lasso touching at a corner (one coefficient exactly 0) and ridge "
    "on the smooth edge.",
    "landscape": "Every solver's iterates on the contours of the objective (kinks along "
    "the axes), and each coefficient that is 0 in the solution against k. Look for "
    "iterates that land on the axis and stay, against those that cross it again and again.",
    "thresholding": "The one-coordinate update: soft (lasso), firm (MCP), hard and ridge "
    "thresholding, the zero zone shaded, the solution's points on its curve. Look for the "
    "points inside the zone: exactly 0.",
    "cv": "Held-out error against alpha: folds thin, the mean with a band of one standard "
    "error. Look for the alpha of the minimum and the larger 1-SE alpha (a sparser model "
    "within the noise of the folds).",
}
