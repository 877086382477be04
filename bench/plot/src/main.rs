//! `mvm-plot`: SVG charts from the JSON that `bench/compare` and `bench/density` write.
//!
//! ```text
//! mvm-plot compare bench/results/compare-latest.json bench/results
//! mvm-plot density bench/results/density-latest.json bench/results
//! ```
//! Prints the paths of the SVG files it wrote. Only plotters' SVG backend is used: no fonts, no
//! bitmap encoders, so the tool builds from crates alone.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

/// The kinds in the order every chart shows them.
const KINDS: [&str; 5] = ["plain", "unshare", "runc", "crun", "mvm"];
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x4c, 0x72, 0xb0),
    RGBColor(0xdd, 0x84, 0x52),
    RGBColor(0x55, 0xa8, 0x68),
    RGBColor(0xc4, 0x4e, 0x52),
    RGBColor(0x81, 0x72, 0xb3),
    RGBColor(0x93, 0x78, 0x60),
];

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// One named series of a grouped bar chart: a value (or none) per category.
struct Series {
    name: String,
    values: Vec<Option<f64>>,
}

/// Bars grouped by category (the kinds), one colour per series; `marks` adds, per series and
/// category, extra values drawn as short horizontal ticks (p90/p99 over a median bar).
fn grouped_bars(
    path: &Path,
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[Series],
    marks: &[Vec<Vec<(String, f64)>>],
) -> Res<()> {
    let ymax = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .chain(marks.iter().flatten().flatten().map(|(_, v)| *v))
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.15;
    let root = SVGBackend::new(path, (900, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = categories.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..n, 0.0..ymax)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(y_label)
        .y_label_formatter(&|v| format_value(*v))
        .draw()?;
    let ns = series.len().max(1) as f64;
    let width = 0.8 / ns;
    for (j, s) in series.iter().enumerate() {
        let color = PALETTE[j % PALETTE.len()];
        let bars = s.values.iter().enumerate().filter_map(|(i, v)| {
            v.map(|v| {
                let x0 = i as f64 + 0.1 + j as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width * 0.92, v)], color.filled())
            })
        });
        chart
            .draw_series(bars)?
            .label(s.name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
        let labels = s.values.iter().enumerate().filter_map(|(i, v)| {
            v.map(|v| {
                let x = i as f64 + 0.1 + j as f64 * width;
                Text::new(format_value(v), (x, v), ("sans-serif", 12).into_font())
            })
        });
        chart.draw_series(labels)?;
        if let Some(m) = marks.get(j) {
            for (i, ticks) in m.iter().enumerate() {
                let x0 = i as f64 + 0.1 + j as f64 * width;
                for (name, v) in ticks {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(x0, *v), (x0 + width * 0.92, *v)],
                        BLACK.stroke_width(2),
                    )))?;
                    chart.draw_series(std::iter::once(Text::new(
                        format!("{name} {}", format_value(*v)),
                        (x0 + width * 0.95, *v),
                        ("sans-serif", 11).into_font(),
                    )))?;
                }
            }
        }
    }
    // Category names centred under each group, in the x label area below the axis.
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let style =
        TextStyle::from(("sans-serif", 15).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for (i, c) in categories.iter().enumerate() {
        let x = xr.start + ((i as f64 + 0.5) / n * (xr.end - xr.start) as f64) as i32;
        root.draw(&Text::new(c.clone(), (x, yr.end + 8), style.clone()))?;
    }
    if series.len() > 1 {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn format_value(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Nearest-rank percentile, as the python scripts compute it.
fn percentile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let k = ((s.len() as f64 * q / 100.0).ceil() as usize).max(1);
    Some(s[k - 1])
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

fn compare(data: &Value, out: &Path) -> Res<Vec<PathBuf>> {
    let kinds_obj = data["kinds"]
        .as_object()
        .ok_or("no \"kinds\" in the JSON")?;
    let kinds: Vec<String> = KINDS
        .iter()
        .filter(|k| kinds_obj.contains_key(**k))
        .map(|k| k.to_string())
        .collect();
    let mut medians = Vec::new();
    let mut ticks = Vec::new();
    for k in &kinds {
        let ms: Vec<f64> = numbers(&kinds_obj[k]["hello_ns"])
            .into_iter()
            .map(|x| x / 1e6)
            .collect();
        medians.push(median(&mut ms.clone()));
        let mut t = Vec::new();
        if let Some(p) = percentile(&ms, 90.0) {
            t.push(("p90".to_string(), p));
        }
        if let Some(p) = percentile(&ms, 99.0) {
            t.push(("p99".to_string(), p));
        }
        ticks.push(t);
    }
    let n_runs = kinds
        .iter()
        .map(|k| numbers(&kinds_obj[k]["hello_ns"]).len())
        .max()
        .unwrap_or(0);
    let latency = out.join("compare-latency.svg");
    grouped_bars(
        &latency,
        &format!("static hello, start→exit (median bar, p90/p99 ticks; n={n_runs})"),
        "milliseconds",
        &kinds,
        &[Series {
            name: "median".into(),
            values: medians,
        }],
        &[ticks],
    )?;
    let mib = |k: &String, field: &str, idx: Option<usize>| -> Option<f64> {
        let v = numbers(&kinds_obj[k][field]);
        match idx {
            Some(i) => v.get(i).map(|x| x / 1024.0),
            None => median(&mut v.clone()).map(|x| x / 1024.0),
        }
    };
    let memory = out.join("compare-memory.svg");
    grouped_bars(
        &memory,
        "memory per instance",
        "MiB",
        &kinds,
        &[
            Series {
                name: "idle instance: PSS (sum of its processes)".into(),
                values: kinds.iter().map(|k| mib(k, "idle", Some(0))).collect(),
            },
            Series {
                name: "idle instance: RSS (sum)".into(),
                values: kinds.iter().map(|k| mib(k, "idle", Some(1))).collect(),
            },
            Series {
                name: "peak RSS running hello (largest process)".into(),
                values: kinds.iter().map(|k| mib(k, "peak_rss_kib", None)).collect(),
            },
        ],
        &[],
    )?;
    Ok(vec![latency, memory])
}

fn density(data: &Value, out: &Path) -> Res<Vec<PathBuf>> {
    let records = data["records"]
        .as_array()
        .ok_or("no \"records\" in the JSON")?;
    let measured: Vec<&Value> = records
        .iter()
        .filter(|r| r.get("reached").is_some())
        .collect();
    let kinds: Vec<String> = KINDS
        .iter()
        .filter(|k| measured.iter().any(|r| r["kind"] == **k))
        .map(|k| k.to_string())
        .collect();
    let mut ns: Vec<u64> = measured.iter().filter_map(|r| r["n"].as_u64()).collect();
    ns.sort_unstable();
    ns.dedup();
    let find = |k: &str, n: u64| {
        measured
            .iter()
            .find(|r| r["kind"] == k && r["n"].as_u64() == Some(n))
    };
    let per_n = |f: &dyn Fn(&Value) -> Option<f64>| -> Vec<Series> {
        ns.iter()
            .map(|&n| Series {
                name: format!("N = {n}"),
                values: kinds
                    .iter()
                    .map(|k| find(k, n).and_then(|r| f(r)))
                    .collect(),
            })
            .collect()
    };
    let mut files = Vec::new();
    let p = out.join("density-memavailable.svg");
    grouped_bars(
        &p,
        "host memory per idle instance: MemAvailable drop ÷ instances",
        "MiB per instance",
        &kinds,
        &per_n(&|r| {
            r["mem_available_delta_kib_per"]
                .as_f64()
                .map(|x| x / 1024.0)
        }),
        &[],
    )?;
    files.push(p);
    let p = out.join("density-pss.svg");
    grouped_bars(
        &p,
        "PSS per idle instance (sum over its processes)",
        "MiB per instance",
        &kinds,
        &per_n(&|r| r["measure"]["pss_kib"].as_f64().map(|x| x / 1024.0)),
        &[],
    )?;
    files.push(p);
    let p = out.join("density-rate.svg");
    grouped_bars(
        &p,
        "start rate of idle instances",
        "instances per second",
        &kinds,
        &per_n(&|r| r["rate_per_s"].as_f64()),
        &[],
    )?;
    files.push(p);

    // Instances ready over time, each kind at the largest N it ran.
    let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for k in &kinds {
        if let Some(r) = ns.iter().rev().find_map(|&n| find(k, n)) {
            let pts: Vec<(f64, f64)> = r["timeline"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?)))
                        .collect()
                })
                .unwrap_or_default();
            if !pts.is_empty() {
                lines.push((format!("{k} (N = {})", r["n"]), pts));
            }
        }
    }
    let p = out.join("density-timeline.svg");
    let xmax = lines
        .iter()
        .flat_map(|(_, v)| v.iter().map(|p| p.0))
        .fold(0.0f64, f64::max)
        .max(1e-3)
        * 1.05;
    let ymax = lines
        .iter()
        .flat_map(|(_, v)| v.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.05;
    {
        let root = SVGBackend::new(&p, (900, 520)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("idle instances ready over time", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..xmax, 0.0..ymax)?;
        chart
            .configure_mesh()
            .x_desc("seconds since the first start")
            .y_desc("instances ready")
            .draw()?;
        for (j, (name, pts)) in lines.iter().enumerate() {
            let color = PALETTE
                [KINDS.iter().position(|k| name.starts_with(k)).unwrap_or(j) % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
        root.present()?;
    }
    files.push(p);
    Ok(files)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 || !matches!(args[1].as_str(), "compare" | "density") {
        eprintln!("usage: mvm-plot compare|density RESULTS.json OUT_DIR");
        std::process::exit(2);
    }
    let result = (|| -> Res<Vec<PathBuf>> {
        let text = std::fs::read_to_string(&args[2]).map_err(|e| format!("{}: {e}", args[2]))?;
        let data: Value = serde_json::from_str(&text)?;
        let out = Path::new(&args[3]);
        std::fs::create_dir_all(out)?;
        match args[1].as_str() {
            "compare" => compare(&data, out),
            _ => density(&data, out),
        }
    })();
    match result {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
        }
        Err(e) => {
            eprintln!("mvm-plot: {e}");
            std::process::exit(1);
        }
    }
}
