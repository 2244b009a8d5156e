mod units;

fn main() {}
